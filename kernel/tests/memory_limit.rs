//! A memory cgroup's limit turns a too-large array into NumPy's MemoryError instead of the
//! OOM killer ending the process. The test makes its own cgroup (v2 where the memory
//! controller is there, else v1), runs `kiln run` inside it and removes the cgroup after.
//! It is skipped, saying why, where no memory cgroup can be made (not root, no controller).

use kiln_runtime::headroom::{parse_mountinfo, CgroupVersion};
use std::path::{Path, PathBuf};
use std::process::Command;

const LIMIT: u64 = 512 << 20;

/// A memory cgroup made for one test, removed when dropped (also when the test fails).
struct TestCgroup {
    dir: PathBuf,
}

impl TestCgroup {
    fn make(name: &str) -> Result<TestCgroup, String> {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(|e| format!("no /proc/self/mountinfo: {e}"))?;
        let mounts = parse_mountinfo(&mountinfo);
        let mut why = vec!["no cgroup mount with the memory controller".to_string()];
        // v2 first: its controllers are listed at the mount's top.
        let mut ordered: Vec<_> = mounts
            .iter()
            .filter(|m| m.version == CgroupVersion::V2)
            .collect();
        ordered.extend(mounts.iter().filter(|m| m.version == CgroupVersion::V1));
        for m in ordered {
            let top = &m.mount_point;
            let (limit_file, ok) = match m.version {
                CgroupVersion::V2 => {
                    let controllers =
                        std::fs::read_to_string(top.join("cgroup.controllers")).unwrap_or_default();
                    if !controllers.split_whitespace().any(|c| c == "memory") {
                        continue;
                    }
                    let enabled = std::fs::write(top.join("cgroup.subtree_control"), "+memory");
                    (
                        "memory.max",
                        enabled.map_err(|e| format!("{}: {e}", top.display())),
                    )
                }
                CgroupVersion::V1 => ("memory.limit_in_bytes", Ok(())),
            };
            if let Err(e) = ok {
                why.push(e);
                continue;
            }
            let dir = top.join(format!("kiln-test-{name}-{}", std::process::id()));
            if let Err(e) = std::fs::create_dir(&dir) {
                why.push(format!("mkdir {}: {e}", dir.display()));
                continue;
            }
            let cg = TestCgroup { dir };
            if let Err(e) = std::fs::write(cg.dir.join(limit_file), LIMIT.to_string()) {
                why.push(format!("{limit_file}: {e}"));
                continue;
            }
            return Ok(cg);
        }
        Err(why.join("; "))
    }

    /// Runs `kiln run file` as a process of this cgroup: the shell joins it, then becomes kiln.
    fn kiln_run(&self, file: &Path) -> std::process::Output {
        Command::new("sh")
            .arg("-c")
            .arg(r#"echo $$ > "$1/cgroup.procs" && exec "$2" run "$3""#)
            .arg("sh")
            .arg(&self.dir)
            .arg(env!("CARGO_BIN_EXE_kiln"))
            .arg(file)
            .output()
            .expect("sh runs")
    }
}

impl Drop for TestCgroup {
    fn drop(&mut self) {
        // Every process of the cgroup has exited by now; an empty cgroup can be removed.
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            eprintln!("could not remove {}: {e}", self.dir.display());
        }
    }
}

fn source_file(name: &str, text: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("kiln-memtest-{name}-{}.kiln", std::process::id()));
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn an_array_beyond_the_cgroup_limit_raises_memory_error() {
    let cg = match TestCgroup::make("over") {
        Ok(cg) => cg,
        Err(why) => {
            eprintln!("skipped: cannot make a memory cgroup here ({why})");
            return;
        }
    };
    // 1 GiB of float64 in a 512 MiB cgroup; `ones` touches every page.
    let file = source_file(
        "over",
        "print('before')\n# %%\na = ones((1024, 1024, 128))\nprint('not reached')\n",
    );
    let out = cg.kiln_run(&file);
    std::fs::remove_file(&file).ok();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "kiln must report the error and exit 1, not be killed: {:?}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    assert_eq!(stdout, "before\n");
    assert!(
        stderr.contains(
            "MemoryError: Unable to allocate 1.00 GiB for an array with shape (1024, 1024, 128) and data type float64"
        ),
        "stderr: {stderr}"
    );
}

#[test]
fn an_array_within_the_cgroup_limit_is_made() {
    let cg = match TestCgroup::make("within") {
        Ok(cg) => cg,
        Err(why) => {
            eprintln!("skipped: cannot make a memory cgroup here ({why})");
            return;
        }
    };
    // 128 MiB in 512 MiB: the check must not refuse what fits (zeros and ones alike).
    let file = source_file(
        "within",
        "a = ones((1024, 1024, 16))\nb = zeros((1024, 1024, 16))\nprint(a.sum() + b.sum())\n",
    );
    let out = cg.kiln_run(&file);
    std::fs::remove_file(&file).ok();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}\nstderr: {stderr}", out.status);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "16777216.0\n");
}
