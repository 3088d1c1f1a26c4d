//! `calc-single`: see `reference::calc::single`.

fn main() -> std::process::ExitCode {
    reference::calc::single::main()
}
