//! Where the reference binaries are: built with cargo on demand (or given by
//! `HARNESS_REFERENCE_BIN_DIR`).

use super::*;

/// Builds the reference binaries (same profile as the harness) and returns their folder.
///
/// `HARNESS_REFERENCE_BIN_DIR` skips the build (tests set it to the binaries cargo built).
pub fn reference_bin_dir(kit_root: &Path) -> Result<PathBuf> {
    let profile = if cfg!(debug_assertions) {
        Profile::Debug
    } else {
        Profile::Release
    };
    reference_bin_dir_built(kit_root, profile)
}

/// How the reference is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Debug,
    Release,
}

/// [`reference_bin_dir`], built with `profile`.
pub fn reference_bin_dir_built(kit_root: &Path, profile: Profile) -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("HARNESS_REFERENCE_BIN_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(kit_root).args([
        "build",
        "-p",
        "reference",
        "--bins",
        "--message-format=json-render-diagnostics",
    ]);
    if profile == Profile::Release {
        command.arg("--release");
    }
    eprintln!("building the reference binaries…");
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(Error::io("cannot run cargo to build the reference"))?;
    if !output.status.success() {
        return Err(Error::Build(format!(
            "cargo build -p reference failed ({})",
            output.status
        )));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|message| message.get("executable")?.as_str().map(PathBuf::from))
        .find_map(|executable| executable.parent().map(Path::to_path_buf))
        .ok_or_else(|| Error::Build("cargo built no reference binary".into()))
}
