//! How many more bytes this process can really get before the kernel's OOM killer ends it.
//!
//! `mmap` of anonymous memory succeeds far beyond what a container or a JupyterHub memory
//! limit allows (Linux overcommits); the process is then killed when it touches the pages.
//! So before a large allocation the allocator asks here: the headroom of every memory cgroup
//! the process is in (its own and each ancestor's limit less usage; cgroup v2 `memory.max`
//! and `memory.current`, v1 `memory.limit_in_bytes` and `memory.usage_in_bytes`), and the
//! machine's `MemAvailable`, plus swap where there is any. Where the cgroups live is found
//! once; the numbers are read per call, since they change with every allocation.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Which memory-cgroup files a directory has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CgroupVersion {
    V1,
    V2,
}

impl CgroupVersion {
    /// (limit, usage) of memory, and (limit, usage) of what swap may add, file names.
    fn files(self) -> ([&'static str; 2], [&'static str; 2]) {
        match self {
            CgroupVersion::V2 => (
                ["memory.max", "memory.current"],
                ["memory.swap.max", "memory.swap.current"],
            ),
            // v1's memsw counts memory and swap together.
            CgroupVersion::V1 => (
                ["memory.limit_in_bytes", "memory.usage_in_bytes"],
                ["memory.memsw.limit_in_bytes", "memory.memsw.usage_in_bytes"],
            ),
        }
    }
}

/// A memory cgroup directory whose limit applies to this process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgroupDir {
    pub path: PathBuf,
    pub version: CgroupVersion,
}

/// One line of `/proc/self/mountinfo` that mounts a cgroup hierarchy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CgroupMount {
    /// The path inside the hierarchy that is mounted (`/` unless a container mounts a part).
    pub root: String,
    pub mount_point: PathBuf,
    pub version: CgroupVersion,
}

/// The process's memory-cgroup paths from `/proc/self/cgroup`: (v1 memory controller's,
/// v2 unified hierarchy's). Lines are `id:controllers:path`; v2's is `0::path`.
pub fn parse_proc_cgroup(text: &str) -> (Option<String>, Option<String>) {
    let (mut v1, mut v2) = (None, None);
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            v2 = Some(path.to_string());
        } else if controllers.split(',').any(|c| c == "memory") {
            v1 = Some(path.to_string());
        }
    }
    (v1, v2)
}

/// Undoes mountinfo's octal escapes (`\040` is a space).
fn unescape_mount_field(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut k = 0;
    while k < b.len() {
        if b[k] == b'\\'
            && k + 3 < b.len()
            && b[k + 1..k + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[k + 1] - b'0') * 64 + (b[k + 2] - b'0') * 8 + (b[k + 3] - b'0'));
            k += 4;
        } else {
            out.push(b[k]);
            k += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The cgroup mounts in `/proc/self/mountinfo` that can limit memory: every `cgroup2` mount,
/// and `cgroup` (v1) mounts whose options name the `memory` controller. A line reads
/// `id parent major:minor root mount-point options [optional...] - fstype source super-options`.
pub fn parse_mountinfo(text: &str) -> Vec<CgroupMount> {
    let mut mounts = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let left: Vec<&str> = left.split(' ').collect();
        let right: Vec<&str> = right.split(' ').collect();
        if left.len() < 5 || right.is_empty() {
            continue;
        }
        let version = match right[0] {
            "cgroup2" => CgroupVersion::V2,
            "cgroup"
                if right
                    .get(2)
                    .is_some_and(|o| o.split(',').any(|x| x == "memory")) =>
            {
                CgroupVersion::V1
            }
            _ => continue,
        };
        mounts.push(CgroupMount {
            root: unescape_mount_field(left[3]),
            mount_point: PathBuf::from(unescape_mount_field(left[4])),
            version,
        });
    }
    mounts
}

/// The directories of the process's memory cgroup and of each ancestor up to the mounted
/// root, innermost first: a parent's limit binds its children too.
pub fn cgroup_dirs(proc_cgroup: &str, mountinfo: &str) -> Vec<CgroupDir> {
    let (v1, v2) = parse_proc_cgroup(proc_cgroup);
    let mut dirs = Vec::new();
    for m in parse_mountinfo(mountinfo) {
        let Some(path) = (match m.version {
            CgroupVersion::V1 => v1.as_deref(),
            CgroupVersion::V2 => v2.as_deref(),
        }) else {
            continue;
        };
        // The path is relative to the hierarchy's root; the mount shows `m.root` of it. A
        // path outside the mounted part (another cgroup namespace) leaves the mount's top.
        let inside = path
            .strip_prefix(m.root.trim_end_matches('/'))
            .filter(|rest| rest.is_empty() || rest.starts_with('/'))
            .unwrap_or("");
        let mut dir = m.mount_point.clone();
        for part in inside.split('/').filter(|p| !p.is_empty()) {
            dir.push(part);
        }
        loop {
            dirs.push(CgroupDir {
                path: dir.clone(),
                version: m.version,
            });
            if dir == m.mount_point || !dir.pop() {
                break;
            }
        }
    }
    dirs
}

/// A limit file's value: `None` for `max` (v2's "no limit") or text that is not a number.
pub fn parse_limit(text: &str) -> Option<u64> {
    let t = text.trim();
    if t == "max" {
        return None;
    }
    t.parse().ok()
}

/// `MemAvailable` and `SwapFree` of `/proc/meminfo`, in bytes (its figures are in kB).
pub fn parse_meminfo(text: &str) -> (Option<u64>, Option<u64>) {
    let field = |name: &str| {
        text.lines().find_map(|l| {
            let rest = l.strip_prefix(name)?.strip_prefix(':')?;
            let kb: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            Some(kb.saturating_mul(1024))
        })
    };
    (field("MemAvailable"), field("SwapFree"))
}

fn read_number(dir: &Path, file: &str) -> Option<u64> {
    parse_limit(&std::fs::read_to_string(dir.join(file)).ok()?)
}

/// What one cgroup still allows: memory limit less usage, plus what swap may add when
/// `swap_free` (the machine's) is nonzero. `None` when it sets no limit.
pub fn cgroup_headroom(dir: &CgroupDir, swap_free: u64) -> Option<u64> {
    let ([limit, usage], [swap_limit, swap_usage]) = dir.version.files();
    let mem = read_number(&dir.path, limit)?.saturating_sub(read_number(&dir.path, usage)?);
    if swap_free == 0 {
        return Some(mem);
    }
    let swap = match (
        read_number(&dir.path, swap_limit),
        read_number(&dir.path, swap_usage),
    ) {
        (Some(l), Some(u)) => match dir.version {
            CgroupVersion::V2 => l.saturating_sub(u),
            // memsw bounds memory + swap: what it leaves beyond the memory headroom.
            CgroupVersion::V1 => l.saturating_sub(u).saturating_sub(mem),
        },
        // No swap accounting file: swap is not limited per cgroup (v2 without the files
        // has no swap control; v1 without memsw likewise).
        _ => swap_free,
    };
    Some(mem.saturating_add(swap.min(swap_free)))
}

fn own_cgroup_dirs() -> &'static [CgroupDir] {
    static DIRS: OnceLock<Vec<CgroupDir>> = OnceLock::new();
    DIRS.get_or_init(|| {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        cgroup_dirs(&read("/proc/self/cgroup"), &read("/proc/self/mountinfo"))
    })
}

/// The bytes this process can still get, or `None` where nothing says (no `/proc`).
pub fn available_bytes() -> Option<u64> {
    let (avail, swap_free) =
        parse_meminfo(&std::fs::read_to_string("/proc/meminfo").unwrap_or_default());
    let swap_free = swap_free.unwrap_or(0);
    let machine = avail.map(|a| a.saturating_add(swap_free));
    own_cgroup_dirs()
        .iter()
        .filter_map(|d| cgroup_headroom(d, swap_free))
        .chain(machine)
        .min()
}
