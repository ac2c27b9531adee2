//! The parsing behind the memory headroom check, on fixture text of the files it reads.

use crate::headroom::*;
use std::path::PathBuf;

const V1_CGROUP: &str = "9:name=systemd:/\n4:memory:/process_api/abc\n3:cpuset:/\n0::/\n";
const V1_MOUNTINFO: &str = "\
25 30 0:22 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
27 25 0:24 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
30 25 0:27 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 25 0:33 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

fn dir(p: &str, version: CgroupVersion) -> CgroupDir {
    CgroupDir {
        path: PathBuf::from(p),
        version,
    }
}

#[test]
fn proc_cgroup_lines() {
    assert_eq!(
        parse_proc_cgroup(V1_CGROUP),
        (Some("/process_api/abc".into()), Some("/".into()))
    );
    assert_eq!(
        parse_proc_cgroup("0::/user.slice/user-1000.slice/session-2.scope\n"),
        (
            None,
            Some("/user.slice/user-1000.slice/session-2.scope".into())
        )
    );
    // v1 with controllers named together, and a path holding a colon.
    assert_eq!(
        parse_proc_cgroup("5:memory,hugetlb:/a:b\n"),
        (Some("/a:b".into()), None)
    );
    assert_eq!(parse_proc_cgroup(""), (None, None));
    assert_eq!(parse_proc_cgroup("garbage\n"), (None, None));
}

#[test]
fn mountinfo_finds_memory_hierarchies_only() {
    let mounts = parse_mountinfo(V1_MOUNTINFO);
    assert_eq!(
        mounts,
        vec![
            CgroupMount {
                root: "/".into(),
                mount_point: PathBuf::from("/sys/fs/cgroup/memory"),
                version: CgroupVersion::V1,
            },
            CgroupMount {
                root: "/".into(),
                mount_point: PathBuf::from("/sys/fs/cgroup/unified"),
                version: CgroupVersion::V2,
            },
        ]
    );
    // Optional fields before the separator, and an escaped space in the mount point.
    let m = parse_mountinfo(
        "40 1 0:35 /docker/x /sys/fs/my\\040cgroup rw shared:9 master:2 - cgroup2 cgroup2 rw\n",
    );
    assert_eq!(m[0].root, "/docker/x");
    assert_eq!(m[0].mount_point, PathBuf::from("/sys/fs/my cgroup"));
    assert!(parse_mountinfo("not a mountinfo line\n").is_empty());
}

#[test]
fn cgroup_dirs_walk_up_to_the_mount() {
    assert_eq!(
        cgroup_dirs(V1_CGROUP, V1_MOUNTINFO),
        vec![
            dir("/sys/fs/cgroup/memory/process_api/abc", CgroupVersion::V1),
            dir("/sys/fs/cgroup/memory/process_api", CgroupVersion::V1),
            dir("/sys/fs/cgroup/memory", CgroupVersion::V1),
            dir("/sys/fs/cgroup/unified", CgroupVersion::V2),
        ]
    );
    // v2 only, as on current distributions.
    let v2 = "0::/user.slice/app\n";
    let mi = "30 25 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
    assert_eq!(
        cgroup_dirs(v2, mi),
        vec![
            dir("/sys/fs/cgroup/user.slice/app", CgroupVersion::V2),
            dir("/sys/fs/cgroup/user.slice", CgroupVersion::V2),
            dir("/sys/fs/cgroup", CgroupVersion::V2),
        ]
    );
    // A container that mounts only its own part of the hierarchy.
    let mi = "30 25 0:27 /docker/x /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
    assert_eq!(
        cgroup_dirs("0::/docker/x\n", mi),
        vec![dir("/sys/fs/cgroup", CgroupVersion::V2)]
    );
    assert_eq!(
        cgroup_dirs("0::/docker/x/inner\n", mi),
        vec![
            dir("/sys/fs/cgroup/inner", CgroupVersion::V2),
            dir("/sys/fs/cgroup", CgroupVersion::V2),
        ]
    );
    // `/docker/xy` is not inside `/docker/x`: the mount's top is all that is known.
    assert_eq!(
        cgroup_dirs("0::/docker/xy\n", mi),
        vec![dir("/sys/fs/cgroup", CgroupVersion::V2)]
    );
    // No cgroup files at all (no /proc, or not Linux).
    assert!(cgroup_dirs("", "").is_empty());
    assert!(cgroup_dirs(V1_CGROUP, "").is_empty());
}

#[test]
fn limits_and_meminfo() {
    assert_eq!(parse_limit("max\n"), None);
    assert_eq!(parse_limit("536870912\n"), Some(536870912));
    assert_eq!(
        parse_limit("9223372036854771712"),
        Some(9223372036854771712)
    );
    assert_eq!(parse_limit(""), None);
    assert_eq!(parse_limit("-1"), None);
    let meminfo = "MemTotal:       24683772 kB\nMemFree:  100 kB\nMemAvailable:   22981984 kB\nSwapTotal: 0 kB\nSwapFree:        2 kB\n";
    assert_eq!(parse_meminfo(meminfo), (Some(22981984 * 1024), Some(2048)));
    assert_eq!(parse_meminfo("MemTotal: 5 kB\n"), (None, None));
}

#[test]
#[cfg_attr(miri, ignore = "reads /proc, which Miri's isolation forbids")]
fn headroom_is_known_on_linux() {
    // Wherever /proc/meminfo exists the machine's figure bounds the answer.
    if std::path::Path::new("/proc/meminfo").exists() {
        let free = available_bytes().expect("MemAvailable");
        assert!(free > 0);
    }
}

#[test]
#[cfg_attr(miri, ignore = "writes files, which Miri's isolation forbids")]
fn headroom_of_fixture_cgroup_dirs() {
    let root = std::env::temp_dir().join(format!("kiln-headroom-{}", std::process::id()));
    let write = |sub: &str, files: &[(&str, &str)]| {
        let d = root.join(sub);
        std::fs::create_dir_all(&d).unwrap();
        for (f, text) in files {
            std::fs::write(d.join(f), text).unwrap();
        }
        d
    };
    let v2 = write(
        "v2",
        &[
            ("memory.max", "1000\n"),
            ("memory.current", "300\n"),
            ("memory.swap.max", "max\n"),
            ("memory.swap.current", "0\n"),
        ],
    );
    let v2_unlimited = write(
        "v2max",
        &[("memory.max", "max\n"), ("memory.current", "5\n")],
    );
    let v1 = write(
        "v1",
        &[
            ("memory.limit_in_bytes", "1000\n"),
            ("memory.usage_in_bytes", "1200\n"),
        ],
    );
    let v1_swap = write(
        "v1swap",
        &[
            ("memory.limit_in_bytes", "1000\n"),
            ("memory.usage_in_bytes", "400\n"),
            ("memory.memsw.limit_in_bytes", "1500\n"),
            ("memory.memsw.usage_in_bytes", "400\n"),
        ],
    );
    let missing = root.join("nothing-here");
    let at = |p: &std::path::Path, version| CgroupDir {
        path: p.to_path_buf(),
        version,
    };
    assert_eq!(cgroup_headroom(&at(&v2, CgroupVersion::V2), 0), Some(700));
    // "max" swap: the machine's free swap is the bound.
    assert_eq!(cgroup_headroom(&at(&v2, CgroupVersion::V2), 50), Some(750));
    assert_eq!(
        cgroup_headroom(&at(&v2_unlimited, CgroupVersion::V2), 0),
        None
    );
    // Usage above the limit (reclaimable cache) leaves nothing, not a wrapped number.
    assert_eq!(cgroup_headroom(&at(&v1, CgroupVersion::V1), 0), Some(0));
    assert_eq!(
        cgroup_headroom(&at(&v1_swap, CgroupVersion::V1), 0),
        Some(600)
    );
    assert_eq!(
        cgroup_headroom(&at(&v1_swap, CgroupVersion::V1), 10_000),
        Some(1100)
    );
    assert_eq!(cgroup_headroom(&at(&missing, CgroupVersion::V2), 0), None);
    std::fs::remove_dir_all(&root).unwrap();
}
