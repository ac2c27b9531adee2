//! Finding OpenCL devices, choosing the one `@gpu` loops run on, and what `%devices` prints.
//!
//! Discovery runs once, on the first `@gpu` launch or devices call, and its outcome (a list
//! of devices, or why there is none) is kept for the session: asking again costs nothing
//! and gives the same answer. Each device gets its context and its profiling queue the
//! first time a kernel runs on it.

use super::{Fail, GResult};
use opencl3::command_queue::{CommandQueue, CL_QUEUE_PROFILING_ENABLE};
use opencl3::context::Context;
use opencl3::device::{
    Device, CL_DEVICE_TYPE_ACCELERATOR, CL_DEVICE_TYPE_ALL, CL_DEVICE_TYPE_CPU,
    CL_DEVICE_TYPE_CUSTOM, CL_DEVICE_TYPE_GPU,
};
use opencl3::error_codes::{
    ClError, CL_DEVICE_NOT_FOUND, CL_PLATFORM_NOT_FOUND_KHR, DLOPEN_FUNCTION_NOT_AVAILABLE,
    DLOPEN_RUNTIME_LOAD_FAILED,
};
use std::sync::{Arc, Mutex};

/// What the user can do about having no device; ends every no-device message.
const GET_ONE: &str =
    "./install.sh installs it with PoCL, a CPU OpenCL device (or use @par for the CPU)";

/// One device as discovery found it.
pub(crate) struct DeviceInfo {
    pub device: Device,
    pub platform: String,
    pub name: String,
    pub kind: &'static str,
    pub units: u32,
    pub mem_bytes: u64,
    pub fp64: bool,
    /// How fast fp64 is, where the device lets us tell.
    pub fp64_note: Option<&'static str>,
}

/// An opened device: what a launch needs.
pub(crate) struct DevCtx {
    pub index: usize,
    pub name: String,
    pub fp64: bool,
    /// A CPU device (CL_DEVICE_TYPE_CPU): kernels with a lane version run that one.
    pub cpu: bool,
    pub device: Device,
    pub context: Context,
    pub queue: CommandQueue,
}

struct Registry {
    /// `None` until discovery has run; then the devices, or why there are none.
    found: Option<Result<Vec<DeviceInfo>, String>>,
    /// The device `@gpu` loops run on, or why none is chosen (a `KILN_DEVICE` that matches
    /// no device: the user picks one with `%device`).
    current: Result<usize, String>,
    open: Vec<Option<Arc<DevCtx>>>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    found: None,
    current: Ok(0),
    open: Vec::new(),
});

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// The one-line explanation of an OpenCL failure to list platforms or devices.
fn no_device_message(code: i32) -> String {
    match code {
        DLOPEN_RUNTIME_LOAD_FAILED => format!(
            "no OpenCL device: the OpenCL library (libOpenCL.so.1) is not installed; {GET_ONE}"
        ),
        DLOPEN_FUNCTION_NOT_AVAILABLE => format!(
            "no OpenCL device: the installed OpenCL library (libOpenCL.so.1) lacks functions of OpenCL 1.2; {}",
            GET_ONE.replace("installs it", "installs a current one")
        ),
        CL_PLATFORM_NOT_FOUND_KHR => no_platform_message(),
        c => format!(
            "no OpenCL device: listing OpenCL platforms failed with {} ({c}); {GET_ONE}",
            ClError(c)
        ),
    }
}

/// The OpenCL library is there but no driver (ICD) registered with it.
fn no_platform_message() -> String {
    let place = match std::env::var("OCL_ICD_VENDORS") {
        Ok(v) if !v.is_empty() => format!("OCL_ICD_VENDORS={v} names no driver"),
        _ => "no driver is registered in /etc/OpenCL/vendors".to_string(),
    };
    format!(
        "no OpenCL device: the OpenCL library is installed but {place}; ./install.sh installs PoCL, a CPU OpenCL device, or install your GPU's OpenCL driver (or use @par for the CPU)"
    )
}

fn kind_name(t: u64) -> &'static str {
    if t & CL_DEVICE_TYPE_GPU != 0 {
        "GPU"
    } else if t & CL_DEVICE_TYPE_CPU != 0 {
        "CPU"
    } else if t & CL_DEVICE_TYPE_ACCELERATOR != 0 {
        "accelerator"
    } else if t & CL_DEVICE_TYPE_CUSTOM != 0 {
        "custom device"
    } else {
        "device"
    }
}

/// NVIDIA GPUs report their compute capability; only the data-centre ones (x.0 from Pascal
/// on) run fp64 at a useful rate, the others at 1/32 to 1/64 of fp32.
fn fp64_note(d: &Device, kind: &str) -> Option<&'static str> {
    if kind != "GPU" {
        return None;
    }
    let major = d.compute_capability_major_nv().ok()?;
    let minor = d.compute_capability_minor_nv().ok()?;
    Some(if minor == 0 && major >= 6 {
        "full rate: half of fp32"
    } else {
        "slow on this GPU: 1/32 to 1/64 of fp32, prefer f32"
    })
}

fn describe(d: Device, platform: &str) -> DeviceInfo {
    let kind = kind_name(d.dev_type().unwrap_or(0));
    let fp64 = d
        .extensions()
        .map(|e| e.split_whitespace().any(|x| x == "cl_khr_fp64"))
        .unwrap_or(false)
        || d.double_fp_config().map(|c| c != 0).unwrap_or(false);
    DeviceInfo {
        platform: platform.trim().to_string(),
        name: d
            .name()
            .map(|n| n.trim().to_string())
            .unwrap_or_else(|_| "unnamed device".into()),
        kind,
        units: d.max_compute_units().unwrap_or(0),
        mem_bytes: d.global_mem_size().unwrap_or(0),
        fp64,
        fp64_note: if fp64 { fp64_note(&d, kind) } else { None },
        device: d,
    }
}

/// Every device of every platform, in platform order.
fn discover() -> Result<Vec<DeviceInfo>, String> {
    let platforms = opencl3::platform::get_platforms().map_err(|e| no_device_message(e.0))?;
    if platforms.is_empty() {
        return Err(no_platform_message());
    }
    let mut out = Vec::new();
    let mut empty = Vec::new();
    for p in &platforms {
        let pname = p.name().unwrap_or_else(|_| "unnamed platform".into());
        match p.get_devices(CL_DEVICE_TYPE_ALL) {
            Ok(ids) if !ids.is_empty() => {
                out.extend(ids.into_iter().map(|id| describe(Device::new(id), &pname)));
            }
            Ok(_) => empty.push(pname),
            Err(e) if e.0 == CL_DEVICE_NOT_FOUND => empty.push(pname),
            Err(e) => empty.push(format!("{pname} ({e})")),
        }
    }
    if out.is_empty() {
        return Err(format!(
            "no OpenCL device: the OpenCL platform{} {} found no device; install the device's OpenCL driver, or ./install.sh installs PoCL, a CPU OpenCL device (or use @par for the CPU)",
            if empty.len() == 1 { "" } else { "s" },
            empty.join(", ")
        ));
    }
    Ok(out)
}

fn fmt_line(k: usize, d: &DeviceInfo, current: bool) -> String {
    let fp64 = match (d.fp64, d.fp64_note) {
        (false, _) => "fp64 no".to_string(),
        (true, None) => "fp64 yes".to_string(),
        (true, Some(n)) => format!("fp64 yes ({n})"),
    };
    format!(
        "[{k}] {} / {} — {}, {} compute unit{}, {:.1} GiB, {fp64}{}",
        d.platform,
        d.name,
        d.kind,
        d.units,
        if d.units == 1 { "" } else { "s" },
        d.mem_bytes as f64 / (1u64 << 30) as f64,
        if current { "  (current)" } else { "" }
    )
}

fn listing(devs: &[DeviceInfo], current: Option<usize>) -> String {
    devs.iter()
        .enumerate()
        .map(|(k, d)| fmt_line(k, d, current == Some(k)) + "\n")
        .collect()
}

/// The device `choice` names: an index, or a case-insensitive part of a device's name.
fn find(devs: &[DeviceInfo], choice: &str) -> Result<usize, String> {
    let c = choice.trim();
    let hit = if !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) {
        c.parse::<usize>().ok().filter(|&k| k < devs.len())
    } else if c.is_empty() {
        None
    } else {
        let lc = c.to_lowercase();
        devs.iter()
            .position(|d| d.name.to_lowercase().contains(&lc))
    };
    hit.ok_or_else(|| {
        format!(
            "no OpenCL device matches `{c}`; the devices are:\n{}",
            listing(devs, None).trim_end()
        )
    })
}

/// Runs discovery if it has not run yet, and picks the default device.
fn ensure(reg: &mut Registry) {
    if reg.found.is_some() {
        return;
    }
    let found = discover();
    if let Ok(devs) = &found {
        reg.open = (0..devs.len()).map(|_| None).collect();
        reg.current = match std::env::var("KILN_DEVICE") {
            Ok(v) if !v.trim().is_empty() => {
                find(devs, &v).map_err(|m| format!("KILN_DEVICE={}: {m}", v.trim()))
            }
            _ => Ok(devs.iter().position(|d| d.kind == "GPU").unwrap_or(0)),
        };
    }
    reg.found = Some(found);
}

/// The current device, opened (context and profiling queue) on first use.
pub(crate) fn current() -> GResult<Arc<DevCtx>> {
    let mut reg = registry();
    ensure(&mut reg);
    let k = match reg.found.as_ref() {
        Some(Err(m)) => return Err(Fail::device(m.clone())),
        _ => reg.current.clone().map_err(Fail::device)?,
    };
    if let Some(d) = &reg.open[k] {
        return Ok(d.clone());
    }
    let Some(Ok(devs)) = reg.found.as_ref() else {
        return Err(Fail::internal("OpenCL devices vanished"));
    };
    let info = &devs[k];
    let fail = |what: &str, e: ClError| {
        Fail::device(format!(
            "cannot use OpenCL device {} ({}): {what} failed with {e} ({})",
            k, info.name, e.0
        ))
    };
    let context = Context::from_device(&info.device).map_err(|e| fail("creating a context", e))?;
    let queue =
        CommandQueue::create_default_with_properties(&context, CL_QUEUE_PROFILING_ENABLE, 0)
            .or_else(|_| {
                // OpenCL 1.x platforms only have the older entry point.
                #[allow(deprecated)]
                CommandQueue::create_default(&context, CL_QUEUE_PROFILING_ENABLE)
            })
            .map_err(|e| fail("creating a command queue", e))?;
    let d = Arc::new(DevCtx {
        index: k,
        name: info.name.clone(),
        fp64: info.fp64,
        cpu: info.kind == "CPU",
        device: info.device,
        context,
        queue,
    });
    reg.open[k] = Some(d.clone());
    Ok(d)
}

/// What `%devices` prints: one line per device, the current one marked; with no device,
/// why there is none and how to get one.
pub fn devices_report() -> String {
    let mut reg = registry();
    ensure(&mut reg);
    match reg.found.as_ref() {
        Some(Ok(devs)) => {
            let mut s = listing(devs, reg.current.as_ref().ok().copied());
            if let Err(m) = &reg.current {
                s.push_str(&format!(
                    "no device is selected ({}); choose one with %device N\n",
                    m.lines().next().unwrap_or("")
                ));
            }
            s
        }
        Some(Err(m)) => format!("{m}\n"),
        None => String::new(),
    }
}

/// `%device N` / `%device name`: makes that device the current one. Device copies of
/// arrays belong to the old device's context, so switching drops them (the host copies are
/// always up to date after a launch).
pub fn select_device(choice: &str) -> Result<String, String> {
    let mut reg = registry();
    ensure(&mut reg);
    let devs = match reg.found.as_ref() {
        Some(Ok(d)) => d,
        Some(Err(m)) => return Err(m.clone()),
        None => return Err("OpenCL discovery did not run".into()),
    };
    let k = find(devs, choice)?;
    let line = fmt_line(k, &devs[k], true);
    if reg.current.as_ref().ok() != Some(&k) {
        reg.current = Ok(k);
        drop(reg);
        super::residency::drop_all();
    }
    Ok(line)
}

/// The name of the device `@gpu` loops run on, once discovery has run (this never starts
/// discovery itself, so asking costs nothing on a machine without OpenCL).
pub fn current_device_name() -> Option<String> {
    let reg = registry();
    match (reg.found.as_ref(), reg.current.as_ref()) {
        (Some(Ok(devs)), Ok(&k)) => devs.get(k).map(|d| d.name.clone()),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) fn message_for(code: i32) -> String {
    no_device_message(code)
}
