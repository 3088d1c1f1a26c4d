//! `harness/docs/reference/cli.md`: the long help of `harness` and of each subcommand, as
//! clap renders it from the command line's definition (`harness/src/cli/`).

use clap::CommandFactory;

/// The help's width: fixed, so that the page does not depend on the terminal.
const WIDTH: usize = 100;

pub(super) fn page() -> String {
    let mut command = harness::cli::Cli::command()
        .term_width(WIDTH)
        .max_term_width(WIDTH);
    command.build();
    let mut page = super::generated_notice("the command line's definition (`harness/src/cli/`)");
    page.push_str(
        "\n# The `harness` command line\n\n\
         Every subcommand and option, as `harness --help` and `harness SUBCOMMAND --help` \
         print them. How to use them: [the guide](../guide/README.md).\n\n",
    );
    let subcommands: Vec<String> = visible_subcommands(&command)
        .map(|sub| sub.get_name().to_owned())
        .collect();
    page.push_str("- [`harness`](#harness): grading (the default)\n");
    for name in &subcommands {
        page.push_str(&format!("- [`harness {name}`](#harness-{name})\n"));
    }
    page.push_str(&section("harness", &mut command));
    for name in &subcommands {
        let sub = command
            .find_subcommand_mut(name)
            .expect("a subcommand just listed");
        page.push_str(&section(&format!("harness {name}"), sub));
    }
    page
}

/// The subcommands a user sees: not clap's own `help`, not hidden ones.
fn visible_subcommands(command: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    command
        .get_subcommands()
        .filter(|sub| sub.get_name() != "help" && !sub.is_hide_set())
}

/// One command's heading and long help, as plain text.
fn section(title: &str, command: &mut clap::Command) -> String {
    let help = command.render_long_help().to_string();
    let help: Vec<&str> = help.lines().map(str::trim_end).collect();
    format!(
        "\n## `{title}`\n\n```text\n{}\n```\n",
        help.join("\n").trim_end()
    )
}
