//! Where the reference binaries are: built with cargo on demand (or given by
//! `HARNESS_REFERENCE_BIN_DIR`).

use super::*;

/// Builds the reference binaries (a debug harness grades a debug build, a release harness
/// the `reference-release` profile's) and returns their folder.
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

/// The workspace's profile for the reference's programs when they are timed: release, with
/// link-time optimisation and no symbol table (`Cargo.toml` tells why).
const RELEASE_PROFILE: &str = "reference-release";

/// How the reference is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Cargo's dev profile: `cargo build -p reference --bins`, as the tests grade it.
    Debug,
    /// The `reference-release` profile: optimised as a whole, for `harness bench` to time.
    Release,
}

/// [`reference_bin_dir`], built with `profile`.
pub fn reference_bin_dir_built(kit_root: &Path, profile: Profile) -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("HARNESS_REFERENCE_BIN_DIR") {
        // Absolute: the reference's programs run from folders of their own, where a
        // relative path (`target/release`) names nothing.
        return std::path::absolute(&dir).map_err(Error::io("HARNESS_REFERENCE_BIN_DIR"));
    }
    let mut command = cargo_build(kit_root);
    if profile == Profile::Release {
        command.args(["--profile", RELEASE_PROFILE]);
    }
    built_bin_dir(command)
}

/// `cargo build -p reference --bins`, its messages in JSON (to find the binaries).
fn cargo_build(kit_root: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(kit_root).args([
        "build",
        "-p",
        "reference",
        "--bins",
        "--message-format=json-render-diagnostics",
    ]);
    command
}

/// Runs the build `command` and returns the folder of the binaries it built.
fn built_bin_dir(mut command: Command) -> Result<PathBuf> {
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

/// The reference built for timing whole processes (`harness bench`): the release profile's
/// build with the C library linked in statically, where it is glibc. What the 20 KB bench
/// mostly measures is a client's start, and loading `libc` and `libgcc_s` at every start is
/// part of it (spawn to the server's last byte, 40 rounds: 1.23 ms linked dynamically,
/// 1.19 ms statically, `nc` 1.15 ms). It is not what is graded: `LD_PRELOAD` cannot reach a
/// static program, so the short-call scenarios could not be applied to it. `None` where
/// there is no such build (not glibc, or `HARNESS_REFERENCE_BIN_DIR` names the binaries).
///
/// The flag goes to the reference's target only: with `--target` named, build scripts and
/// procedural macros (which must load dynamically) are built for the host without it,
/// into `target/<triple>/reference-release`. (glibc's linker warns that `getaddrinfo` in a static
/// program loads its name-service modules at run time: on the machine that built it,
/// they are there.)
pub fn static_reference_bin_dir(kit_root: &Path) -> Option<Result<PathBuf>> {
    if !cfg!(all(target_os = "linux", target_env = "gnu"))
        || std::env::var_os("HARNESS_REFERENCE_BIN_DIR").is_some()
    {
        return None;
    }
    let triple = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
    let mut flags = std::env::var("RUSTFLAGS").unwrap_or_default();
    flags.push_str(" -C target-feature=+crt-static");
    let mut command = cargo_build(kit_root);
    command
        .args(["--profile", RELEASE_PROFILE, "--target", &triple])
        .env("RUSTFLAGS", flags.trim());
    Some(built_bin_dir(command))
}
