//! The flags of the protocol packs' run-wide settings, made from the registry.

/// The flags of the protocol packs' run-wide settings (`--mysql SERVER`), made from the
/// registry (`crate::protocols::settings`): a pack that adds a setting adds its flag, with
/// its help, values and value name, under "How to run them". Each chooses who plays a real
/// peer, which the simulated world has none of: not with `--simulate`.
#[derive(Debug, Clone, Default)]
pub(super) struct PackFlags {
    /// The value given for each flag given, by flag.
    pub(super) chosen: std::collections::BTreeMap<&'static str, String>,
}

impl clap::FromArgMatches for PackFlags {
    fn from_arg_matches(matches: &clap::ArgMatches) -> std::result::Result<Self, clap::Error> {
        let mut flags = PackFlags::default();
        flags.update_from_arg_matches(matches)?;
        Ok(flags)
    }

    fn update_from_arg_matches(
        &mut self,
        matches: &clap::ArgMatches,
    ) -> std::result::Result<(), clap::Error> {
        for setting in crate::protocols::settings() {
            if let Some(value) = matches.get_one::<String>(setting.flag) {
                self.chosen.insert(setting.flag, value.clone());
            }
        }
        Ok(())
    }
}

impl clap::Args for PackFlags {
    fn augment_args(command: clap::Command) -> clap::Command {
        crate::protocols::settings().fold(command, |command, setting| {
            let short_help = match setting.help.split_once(": ") {
                Some((first, _)) => first,
                None => setting.help,
            };
            command.arg(
                clap::Arg::new(setting.flag)
                    .long(setting.flag)
                    .help(short_help)
                    .long_help(setting.help)
                    .help_heading(super::args::HEADING_RUNNING)
                    .value_name(setting.value_name)
                    .value_parser(clap::builder::PossibleValuesParser::new(setting.values))
                    .conflicts_with("simulate"),
            )
        })
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::super::Cli;

    /// Every setting of the registry is a flag with its values, under "How to run them",
    /// and what is given reaches the settings by its flag.
    #[test]
    fn every_pack_setting_of_the_registry_is_a_flag() {
        let command = Cli::command();
        let mut seen = 0;
        for setting in crate::protocols::settings() {
            let argument = command
                .get_arguments()
                .find(|argument| argument.get_long() == Some(setting.flag))
                .unwrap_or_else(|| panic!("no --{}", setting.flag));
            let values: Vec<String> = argument
                .get_possible_values()
                .iter()
                .map(|value| value.get_name().to_owned())
                .collect();
            assert_eq!(values, setting.values, "--{}", setting.flag);
            assert_eq!(argument.get_help_heading(), Some("How to run them"));
            let cli =
                Cli::try_parse_from(["harness", &format!("--{}", setting.flag), setting.values[1]])
                    .unwrap();
            assert_eq!(
                cli.grade
                    .pack_settings
                    .chosen
                    .get(setting.flag)
                    .map(String::as_str),
                Some(setting.values[1])
            );
            seen += 1;
        }
        assert!(seen >= 1, "the registry has a setting (--mysql)");
        assert!(Cli::try_parse_from(["harness", "--mysql", "bogus"]).is_err());
    }
}
