//! `kiln install`: writes the `kiln` kernelspec where Jupyter looks for kernels.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args)]
#[group(multiple = false)]
pub struct InstallArgs {
    /// Install for the current user: ~/.local/share/jupyter/kernels (the default).
    #[arg(long)]
    pub user: bool,
    /// Install into the active virtual environment: $VIRTUAL_ENV/share/jupyter/kernels.
    #[arg(long)]
    pub sys_prefix: bool,
    /// Install into DIR/share/jupyter/kernels.
    #[arg(long, value_name = "DIR")]
    pub prefix: Option<PathBuf>,
}

pub fn install(args: InstallArgs) -> ExitCode {
    match try_install(&args) {
        Ok(dir) => {
            println!("Installed the Kiln kernelspec in {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kiln install: {e}");
            ExitCode::FAILURE
        }
    }
}

fn kernels_dir(args: &InstallArgs) -> Result<PathBuf, String> {
    if let Some(prefix) = &args.prefix {
        return Ok(prefix.join("share/jupyter/kernels"));
    }
    if args.sys_prefix {
        return match std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
            Some(venv) => Ok(PathBuf::from(venv).join("share/jupyter/kernels")),
            None => Err(
                "--sys-prefix needs an active virtual environment ($VIRTUAL_ENV is not set); \
                 activate one, or use --prefix DIR or --user"
                    .into(),
            ),
        };
    }
    // --user, the default: where `jupyter --data-dir` points on Linux.
    let data = match std::env::var_os("JUPYTER_DATA_DIR").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            Some(x) => PathBuf::from(x).join("jupyter"),
            None => {
                let home = std::env::var_os("HOME").ok_or("$HOME is not set; use --prefix DIR")?;
                PathBuf::from(home).join(".local/share/jupyter")
            }
        },
    };
    Ok(data.join("kernels"))
}

/// The kernelspec's kernel.json for the binary at `exe`.
pub fn kernel_json(exe: &Path) -> serde_json::Value {
    serde_json::json!({
        "argv": [exe.to_string_lossy(), "kernel", "--connection-file", "{connection_file}"],
        "display_name": "Kiln",
        "language": "kiln",
        "interrupt_mode": "message",
        "metadata": { "debugger": false },
    })
}

fn try_install(args: &InstallArgs) -> Result<PathBuf, String> {
    let exe = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| format!("cannot find this binary's path: {e}"))?;
    let dir = kernels_dir(args)?.join("kiln");
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("writing {}: {e}", path.display()))
    };
    let spec = serde_json::to_string_pretty(&kernel_json(&exe)).expect("json serializes");
    write("kernel.json", spec.as_bytes())?;
    write("logo-32x32.png", &logo_png(32))?;
    write("logo-64x64.png", &logo_png(64))?;
    Ok(dir)
}

/// The logo, drawn at install time: a glowing ember (orange to yellow radial gradient) in
/// a dark brick-red rounded square, so no binary asset is kept in the repository.
pub fn logo_png(size: u32) -> Vec<u8> {
    let mut rgba = Vec::with_capacity((size * size * 4) as usize);
    let s = size as f32;
    let radius = s * 0.18;
    for y in 0..size {
        for x in 0..size {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            // Distance outside the rounded square (negative inside): for the corner mask.
            let qx = (fx - s / 2.0).abs() - (s / 2.0 - radius);
            let qy = (fy - s / 2.0).abs() - (s / 2.0 - radius);
            let outside = (qx.max(0.0).hypot(qy.max(0.0))) - radius;
            let alpha = (0.5 - outside).clamp(0.0, 1.0);
            // The ember: brightest a little below the centre, like a fire's heart.
            let d = ((fx - s * 0.5).powi(2) + (fy - s * 0.58).powi(2)).sqrt() / (s * 0.38);
            let glow = (1.0 - d).clamp(0.0, 1.0);
            let (br, bg, bb) = (96.0, 28.0, 20.0);
            let r = br + (255.0 - br) * glow.powf(0.6);
            let g = bg + (200.0 - bg) * glow.powf(1.4);
            let b = bb + (60.0 - bb) * glow.powf(3.0);
            rgba.extend_from_slice(&[r as u8, g as u8, b as u8, (alpha * 255.0) as u8]);
        }
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, size, size);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().expect("in-memory PNG header");
        w.write_image_data(&rgba).expect("in-memory PNG data");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_json_shape() {
        let j = kernel_json(Path::new("/abs/kiln"));
        assert_eq!(j["argv"][0], "/abs/kiln");
        assert_eq!(j["argv"][3], "{connection_file}");
        assert_eq!(j["language"], "kiln");
        assert_eq!(j["interrupt_mode"], "message");
    }

    #[test]
    fn logos_are_pngs() {
        for size in [32, 64] {
            let png = logo_png(size);
            assert_eq!(&png[1..4], b"PNG");
            let dec = png::Decoder::new(&png[..]).read_info().unwrap();
            assert_eq!(dec.info().width, size);
        }
    }

    #[test]
    fn prefix_paths() {
        let args = InstallArgs {
            user: false,
            sys_prefix: false,
            prefix: Some(PathBuf::from("/tmp/p")),
        };
        assert_eq!(
            kernels_dir(&args).unwrap(),
            PathBuf::from("/tmp/p/share/jupyter/kernels")
        );
    }
}
