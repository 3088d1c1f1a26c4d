//! `calc-select`: see `reference::calc::select`.

fn main() -> std::process::ExitCode {
    reference::calc::select::main()
}
