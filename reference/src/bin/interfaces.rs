//! `interfaces`: see `reference::interfaces`.

fn main() -> std::process::ExitCode {
    reference::interfaces::main()
}
