//! How the engine starts a submission's program (`start` steps): its address and what it is
//! told to reach, its folder and the file it opens, its command line filled in from the
//! scenario and its manifest, what the report must say about the values it hard-codes, then
//! the start itself, a failure of which is the program's or the harness's own.
//!
//! Each phase is a method of its own, in the order `start_program` calls them.

use super::*;
use crate::requests::StartRequest;
use crate::scenario::GivenFile;
use crate::world::real::process::OwnFile;
use std::path::Path;

/// Where a program being started listens, and the stand-in network it reaches its peer
/// through (a hard-coded port the peer is not on).
struct Addressing {
    /// Its own host and port (a server's, a forwarder's); a client has none.
    host: Option<String>,
    port: Option<u16>,
    /// The port the harness holds busy for it (`port = "busy"`).
    occupied_port: Option<u16>,
    network: Option<Arc<Namespace>>,
}

/// Where a program runs and which files it finds there.
struct Placement {
    workdir: Option<PathBuf>,
    /// The scenario's folder, where `{dir}` names it.
    served: Option<PathBuf>,
    /// The scenario's file under the name the program always opens.
    own_file: Option<OwnFile>,
    /// The scenario's `args`, less the word naming that file.
    extra_args: Vec<String>,
}

/// A program's command line and stdin, filled in.
struct CommandLine {
    argv: Vec<String>,
    stdin: Option<Payload>,
    /// The lines of its stdin, which its prompts are counted by.
    stdin_lines: usize,
    /// Its folders, and the kit's fixtures its words name.
    visible_roots: Vec<PathBuf>,
    /// The prompts taken off its stdout, in order.
    prompts: Vec<String>,
    /// The scenario's options the manifest leaves out for its role.
    dropped: Vec<String>,
}

impl Run<'_> {
    /// Starts the program of `role` under `name`.
    pub(crate) async fn start_program(&mut self, request: StartRequest<'_>) -> StepResult {
        let StartRequest {
            role,
            name,
            stdin,
            port: port_choice,
            to,
            extra_args,
            output_cap,
            short_calls,
            with,
            hold_stdin,
        } = request;
        if !self.roles.contains_key(role) {
            return Err(StepFailure {
                status: Status::Error,
                expected: format!("a program for role `{role}`"),
                seen: "none was submitted".into(),
                diff: None,
            });
        }
        let mut values: BTreeMap<&str, String> = with
            .iter()
            .map(|(key, value)| (key.as_str(), value.clone()))
            .collect();
        // On a shared loopback, what it hard-codes is moved (see `redirect`).
        let redirecting = self.redirects(role);
        let mut redirected: Vec<(u16, u16)> = Vec::new();
        let Addressing {
            host,
            port,
            occupied_port,
            network,
        } = self.addressing(
            name,
            role,
            port_choice,
            to,
            redirecting.then_some(&mut redirected),
            &mut values,
        )?;
        let placement = self.placement(name, role, extra_args, &mut values)?;
        self.note_what_it_hard_codes(name, role);
        if !self.program_of(role).site_files.is_empty() {
            // Copied when the site was made, before any program could write there.
            self.site_root()?;
        }
        self.note_its_login(name, role);
        let hold_stdin = hold_stdin || self.program_of(role).hold_stdin;
        let extra_args = self.with_kit_and_peer(&placement.extra_args, &values);
        let placed = self.scenarios_words(name, role, &extra_args, &values);
        for (placeholder, value) in &placed {
            values.insert(placeholder.as_str(), value.clone());
        }
        let command = self.command(role, &extra_args, &values, stdin);
        self.note_its_prompts(name, role, &command);
        self.note_dropped_options(name, role, &command.dropped);
        self.note_missing_packages(name, role);
        let trust_file = self.trust_file()?;
        let short_calls = match short_calls {
            Some(plan) => {
                self.short_calls(name, &plan, &command.argv, placement.workdir.as_deref())?
            }
            None => None,
        };
        // What it sends to port 53 (the system's resolver, any address) reaches the
        // scenario's DNS.
        let dns = crate::peers::dns::DNS_PORT;
        redirected.extend(self.internet.moved_dns_port.map(|moved| (dns, moved)));
        let redirect = match redirecting {
            true => self.redirection(name, redirected)?,
            false => None,
        };
        let home_files = self.home_files(name, to, &values);
        let spec = ProcessSpec {
            argv: command.argv,
            workdir: placement.workdir,
            stdin: command.stdin,
            output_cap,
            occupied_port,
            trust_file,
            network,
            short_calls,
            redirect,
            tcp_ports: self.tcp_ports.clone(),
            served: placement.served,
            hold_stdin,
            home_files,
            visible_roots: command.visible_roots,
            python_path: self.program_of(role).python_path.clone(),
            prompts: command.prompts,
            own_file: placement.own_file,
            sandbox: self.settings.sandbox.clone(),
            endings: self.endings.clone(),
        };
        let handle = self.spawn(name, role, &spec)?;
        self.keep_started(name, role, (host, port), handle, spec.stdin.as_ref());
        Ok(())
    }

    /// Says how program `name` was started and keeps it among the scenario's programs, in
    /// the order they started.
    fn keep_started(
        &mut self,
        name: &str,
        role: &str,
        (host, port): (Option<String>, Option<u16>),
        handle: ProgramHandle,
        stdin: Option<&Payload>,
    ) {
        let stdin_note = stdin
            .map(|payload| format!(", stdin: {}", payload.describe()))
            .unwrap_or_default();
        self.note(format!(
            "{name}: `{}` ({}{stdin_note})",
            self.shown(handle.command_line()),
            handle.whereabouts()
        ));
        let known_good = self.program_of(role).known_good;
        self.programs.insert(
            name.to_owned(),
            Program {
                host,
                port,
                handle,
                known_good,
                role: role.to_owned(),
            },
        );
        self.order.push(name.to_owned());
    }

    /// The test CA's certificate for the program to trust. A real program's system trusts
    /// it alone (its view's certificate store), so a client that verifies reaches any peer
    /// that speaks TLS, under any name; a simulated one is told the CA only where a peer
    /// speaks TLS.
    fn trust_file(&self) -> StepResult<Option<PathBuf>> {
        if !self.speaks_tls() && !matches!(self.world, World::Real(_)) {
            return Ok(None);
        }
        let ca = crate::tls::test_ca().map_err(|error| harness_trouble(error.to_string()))?;
        Ok(Some(ca.ca_file().to_owned()))
    }

    /// The submission's program of `role`, which `start_program` has found there.
    pub(super) fn program_of(&self, role: &str) -> &RoleProgram {
        self.roles.get(role).expect("looked up by start_program")
    }

    /// Where the program listens and what `{host}`, `{port}` and `{port2}` are: a server's
    /// own address, a client's peer (`to`), or both for a forwarder, which listens on
    /// `{port}` and connects to `{host}:{port2}`.
    fn addressing(
        &mut self,
        name: &str,
        role: &str,
        port_choice: PortChoice,
        to: Option<&Endpoint>,
        redirected: Option<&mut Vec<(u16, u16)>>,
        values: &mut BTreeMap<&str, String>,
    ) -> StepResult<Addressing> {
        let forwards = self.program_of(role).uses_placeholder("port2");
        // A forwarder's target: `{host}:{port2}`.
        let target = match to {
            Some(endpoint) if !forwards => {
                let network = self.peer_address(name, role, endpoint, redirected, values)?;
                return Ok(Addressing {
                    host: None,
                    port: None,
                    occupied_port: None,
                    network,
                });
            }
            Some(Endpoint::Named(target)) => Some(self.endpoint_address(target)?),
            Some(Endpoint::Unused) => Some((self.world.host_of(name), self.fresh_port()?)),
            None => None,
        };
        let (host, port, occupied_port) = self.own_address(name, role, port_choice, redirected)?;
        match target {
            Some((target_host, target_port)) => {
                values.insert("host", target_host);
                values.insert("port2", target_port.to_string());
            }
            None => {
                values.insert("host", host.clone());
            }
        }
        values.insert("port", port.to_string());
        Ok(Addressing {
            host: Some(host),
            port: Some(port),
            occupied_port,
            network: None,
        })
    }

    /// A client's `{host}` and `{port}`: its peer's address, or its own machine on a port
    /// nobody listens on. Where it hard-codes another port (or may use the task's well-known
    /// ones), a stand-in listens there, or on a shared loopback the port is moved; the
    /// stand-in's network, where it needs one of its own.
    fn peer_address(
        &mut self,
        name: &str,
        role: &str,
        endpoint: &Endpoint,
        redirected: Option<&mut Vec<(u16, u16)>>,
        values: &mut BTreeMap<&str, String>,
    ) -> StepResult<Option<Arc<Namespace>>> {
        let fixed_port = self.program_of(role).fixed_port;
        let redirecting = redirected.is_some();
        let (host, port) = match endpoint {
            Endpoint::Named(target) => {
                // The capture names the program connecting to a relay or peer.
                self.transcript.name_client(target, name);
                self.endpoint_address(target)?
            }
            // Its own machine, on a port nobody listens on (or the one it hard-codes: in
            // the scenario's own namespace nobody listens there).
            Endpoint::Unused => (
                self.world.host_of(name),
                match (&self.world, fixed_port) {
                    (World::Real(_), Some(fixed)) if !redirecting => fixed,
                    _ => self.fresh_port()?,
                },
            ),
        };
        // On a shared loopback, its hard-coded port leads where the scenario points it, and
        // so do the task's well-known ports (a client that always speaks TLS on 993 meets
        // the peer there): no stand-in is needed.
        if let Some(redirected) = redirected {
            let fixed = fixed_port.filter(|fixed| *fixed != port);
            redirected.extend(fixed.map(|fixed| (fixed, port)));
            if let Endpoint::Named(target) = endpoint {
                redirected.extend(
                    self.well_known_ports_of(target, port)
                        .into_iter()
                        .filter(|(known, _)| Some(*known) != fixed && *known != port),
                );
            }
        }
        let well_known = match endpoint {
            Endpoint::Named(target) => self.well_known_ports_to_serve(target, port),
            _ => Vec::new(),
        };
        let mut network = None;
        let told_port = match (endpoint, &self.world, fixed_port) {
            (Endpoint::Named(_), World::Real(_), Some(fixed)) if redirecting => fixed,
            (Endpoint::Named(target), World::Real(_), Some(fixed)) if fixed != port => {
                network = self.stand_in(name, target, Some(fixed), (&host, port))?;
                fixed
            }
            // The task's well-known ports, in the scenario's namespace: the client is told
            // the peer's address, and may connect to `smtp.example.com:587` instead.
            (Endpoint::Named(target), World::Real(_), _) if !well_known.is_empty() => {
                self.stand_in(name, target, None, (&host, port))?;
                port
            }
            _ => port,
        };
        values.insert("host", host);
        values.insert("port", told_port.to_string());
        Ok(network)
    }

    /// Its working folder, the scenario's folder where `{dir}` names it, and the scenario's
    /// file under the name a program that always opens its own file (`with = { file =
    /// "test.bin" }`) opens: it is then not given the word that names it
    /// (`crate::scenario::GivenFile`).
    fn placement(
        &mut self,
        name: &str,
        role: &str,
        extra_args: &[String],
        values: &mut BTreeMap<&str, String>,
    ) -> StepResult<Placement> {
        let workdir = match &self.program_of(role).workdir {
            Some(Workdir::Folder(folder)) => Some(folder.clone()),
            Some(Workdir::Site) => Some(PathBuf::from(self.site_root()?)),
            None => None,
        };
        // `{dir}` in the command line, or in the scenario's `args` (a file of the folder
        // to upload: `{dir}/photo.bin`).
        let served = if self.program_of(role).uses_site()
            || extra_args.iter().any(|arg| arg.contains("{dir}"))
        {
            let root = self.site_root()?;
            values.insert("dir", root.clone());
            Some(PathBuf::from(root))
        } else {
            None
        };
        let mut own_file = None;
        let mut extra_args = extra_args.to_vec();
        if let Some(file) = self.program_of(role).hard_coded_file().map(str::to_owned) {
            let given = GivenFile::of(&extra_args, self.scenario.dir_tree.as_ref());
            extra_args.retain(|word| !GivenFile::is_word(word));
            match given {
                Some(given) => {
                    let source = given.path_in(Path::new(&self.site_root()?));
                    self.note(format!(
                        "{name}: the scenario's {} put where it runs as `{file}` (submission.toml `with`: the program always opens that)",
                        match given {
                            GivenFile::InFolder(path) => format!("file {{dir}}/{path}"),
                            GivenFile::Folder(name) => format!("folder {name}"),
                        }
                    ));
                    own_file = Some(OwnFile {
                        name: PathBuf::from(&file),
                        source,
                    });
                }
                None => self.note(format!(
                    "{name}: this scenario gives it no file to open; `{file}` (submission.toml `with`) is not made"
                )),
            }
        }
        Ok(Placement {
            workdir,
            served,
            own_file,
            extra_args,
        })
    }

    /// Says the values its manifest fixes (`with`) in place of the scenario's.
    fn note_what_it_hard_codes(&mut self, name: &str, role: &str) {
        // The file it opens is said where it is put (`placement`).
        let values: Vec<String> = self
            .program_of(role)
            .own_values
            .iter()
            .filter(|(key, _)| *key != crate::target::HARD_CODED_FILE)
            .map(|(key, value)| match key.starts_with("--") {
                true => format!("`{key} {value}`"),
                false => format!("{{{key}}} = `{value}`"),
            })
            .collect();
        if !values.is_empty() {
            self.note(format!(
                "{name} hard-codes {} (submission.toml `with`): the scenario uses that instead of its own value",
                values.join(", ")
            ));
        }
    }

    /// Says the login its manifest fixes, which the scenario's login then is.
    fn note_its_login(&mut self, name: &str, role: &str) {
        let login = &self.program_of(role).login;
        if *login == crate::target::Login::default() {
            return;
        }
        let note = format!(
            "{name} hard-codes the login {} with password {} (submission.toml): the scenario's login, where it gives one, is that one",
            login.user.as_deref().unwrap_or("(the scenario's user)"),
            login
                .password
                .as_deref()
                .unwrap_or("(the scenario's password)")
        );
        self.note(note);
    }

    /// The scenario's `args` with `{kit}`, the kit's folder (programs run elsewhere, and an
    /// attachment is named by its full path), and `{host}` and `{port}`, the peer of `to`
    /// (for an option the command line has only sometimes: `--dns {host}:{port}`).
    fn with_kit_and_peer(
        &self,
        extra_args: &[String],
        values: &BTreeMap<&str, String>,
    ) -> Vec<String> {
        let kit = self.scenario.kit_root.display().to_string();
        extra_args
            .iter()
            .map(|arg| crate::target::fill(&arg.replace("{kit}", &kit), values))
            .collect()
    }

    /// The values of the placeholders that place the scenario's words: `{--user}` in its
    /// command line or stdin is the value the scenario gives that option, placed there (a
    /// program that takes positional words, or reads its login with input()), and the
    /// option itself is then not appended; `{1}`, `{2}` are the scenario's words that are
    /// not options (an address read with input()), the same way
    /// (`crate::target::placeholders`). One it places that this scenario does not give
    /// (`{--user}` where it logs in with none, `{2}` where it gives one word) is empty, not
    /// the placeholder's text, and said.
    fn scenarios_words(
        &mut self,
        name: &str,
        role: &str,
        extra_args: &[String],
        values: &BTreeMap<&str, String>,
    ) -> Vec<(String, String)> {
        let mut placed = crate::target::option_values(extra_args);
        placed.extend(
            crate::target::placeholders::POSITIONAL_NAMES
                .iter()
                .map(|name| name.to_string())
                .zip(crate::target::placeholders::positional_words(extra_args)),
        );
        let program = self.program_of(role);
        let mut unset: Vec<String> = program
            .template
            .iter()
            .chain(program.stdin_prefix.as_ref())
            .flat_map(|text| crate::target::placeholders::names_in(text))
            .filter(|placeholder| {
                (placeholder.starts_with('-') || placeholder.parse::<usize>().is_ok())
                    && !values.contains_key(placeholder.as_str())
                    && !placed.iter().any(|(given, _)| given == placeholder)
            })
            .collect();
        unset.sort();
        unset.dedup();
        if !unset.is_empty() {
            let listed: Vec<String> = unset
                .iter()
                .map(|placeholder| format!("{{{placeholder}}}"))
                .collect();
            self.note(format!(
                "{name}: this scenario gives no value for {} (submission.toml places it): left empty",
                listed.join(", ")
            ));
        }
        placed.extend(
            unset
                .into_iter()
                .map(|placeholder| (placeholder, String::new())),
        );
        placed
    }

    /// Its command line (the scenario's words placed, the options the manifest drops left
    /// out) and stdin, with every placeholder filled from `values`.
    fn command(
        &self,
        role: &str,
        extra_args: &[String],
        values: &BTreeMap<&str, String>,
        stdin: Option<Payload>,
    ) -> CommandLine {
        let program = self.program_of(role);
        let extra_args = crate::target::placeholders::without_positionals(
            extra_args,
            &program.placed_positionals(),
        );
        let placed = program.placed_options();
        let extra_args = crate::target::without_options(&extra_args, &placed);
        let mut argv = program.command_line(values);
        let mapped = program.options.apply(&extra_args);
        argv.extend(mapped.words);
        // What its command line may make visible: its own folders, and the kit's fixtures
        // the scenario names (an attachment), never another place a word leads to.
        let mut visible_roots = program.visible.clone();
        visible_roots.extend(crate::target::kit_fixture_folders(
            extra_args.iter().map(String::as_str),
            &self.scenario.kit_root,
        ));
        let stdin = match &program.stdin_prefix {
            Some(prefix) => {
                let mut bytes = crate::target::fill(prefix, values).into_bytes();
                if let Some(payload) = &stdin {
                    bytes.extend(payload.bytes());
                }
                Some(Payload::Bytes(bytes.into()))
            }
            None => stdin,
        };
        // The prompts it writes before it reads its lines (`prompts`, `line_prompt`).
        let lines = stdin.as_ref().map_or(0, |payload| {
            crate::target::prompts::lines_in(&payload.bytes())
        });
        let prompts = crate::target::prompts::in_order(program, lines);
        CommandLine {
            argv,
            stdin,
            stdin_lines: lines,
            visible_roots,
            prompts,
            dropped: mapped.dropped,
        }
    }

    /// Says which prompts are taken off its stdout (`prompts`, `line_prompt`).
    fn note_its_prompts(&mut self, name: &str, role: &str, command: &CommandLine) {
        let program = self.program_of(role);
        let listed = (!program.prompts.is_empty()).then(|| {
            let prompts: Vec<String> = program
                .prompts
                .iter()
                .map(|prompt| format!("`{}`", crate::escape::escaped(prompt)))
                .collect();
            format!(
                "{name}: its prompts {} (submission.toml `prompts`) are not output: each is taken off its stdout once, in that order",
                prompts.join(", ")
            )
        });
        let lines = command.stdin_lines;
        let line_prompt = program.line_prompt.as_ref().map(|prompt| {
            format!(
                "{name}: its prompt `{}` (submission.toml `line_prompt`) is not output: taken off its stdout before each of the {lines} lines of its stdin and once before the end, at most {} times",
                crate::escape::escaped(prompt),
                lines + 1
            )
        });
        for note in listed.into_iter().chain(line_prompt) {
            self.note(note);
        }
    }

    /// Each option the manifest drops for its role is said; where this scenario depends on
    /// it, a failure of the program carries that caveat. The login it hard-codes stands
    /// for `--user`, `--password` and `--auth` (`crate::scenario::adapt`), and an option
    /// whose value the manifest declares (`with = { "--from" = ... }`) is not missing
    /// either: the scenario uses the program's value.
    fn note_dropped_options(&mut self, name: &str, role: &str, dropped: &[String]) {
        for dropped in dropped {
            self.note(format!(
                "{name}: `{dropped}` left out (submission.toml drops it for role {role})"
            ));
            let program = self.program_of(role);
            let login = &program.login;
            let option = dropped.split_whitespace().next().unwrap_or_default();
            let replaced_by_login = (option == "--user" && login.user.is_some())
                || (option == "--password" && login.password.is_some())
                || (option == "--auth" && login.user.is_some() && login.password.is_some());
            if replaced_by_login || program.own_values.contains_key(option) {
                continue;
            }
            self.caveats.push(Caveat {
                text: format!(
                    "submission.toml drops `{dropped}` from the {role}'s command line, and this scenario depends on it"
                ),
                about: option
                    .trim_start_matches('-')
                    .split('-')
                    .filter(|word| word.len() > 2)
                    .map(str::to_lowercase)
                    .collect(),
                program: Some(name.to_owned()),
            });
        }
    }

    /// The packages its `requirements` lists could not be installed: whatever fails of it
    /// may be their absence (an import that fails), not its code.
    fn note_missing_packages(&mut self, name: &str, role: &str) {
        if let Some(missing) = self.program_of(role).packages_missing.clone() {
            self.caveats.push(Caveat {
                text: missing,
                about: vec!["import".into(), "no module named".into()],
                program: Some(name.to_owned()),
            });
        }
    }

    /// What a peer puts in the program's `HOME` (the SSH pack's known_hosts), for the
    /// address the program is told; each file said.
    fn home_files(
        &mut self,
        name: &str,
        to: Option<&Endpoint>,
        values: &BTreeMap<&str, String>,
    ) -> Vec<(PathBuf, Vec<u8>)> {
        let (Some(Endpoint::Named(target)), Some(host), Some(port)) =
            (to, values.get("host"), values.get("port"))
        else {
            return Vec::new();
        };
        let home_files = match (self.servers.get(target), port.parse::<u16>()) {
            (Some(peer), Ok(port)) => peer.client_home_files(host, port),
            _ => Vec::new(),
        };
        for (path, _) in &home_files {
            self.note(format!(
                "{name}: ~/{} written by the `{target}` peer",
                path.display()
            ));
        }
        home_files
    }

    /// Starts `spec` in the world. A command that does not exist is the submission's; so is
    /// a working folder the manifest puts where the scenario leaves a folder missing on
    /// purpose (`workdir = "{dir}"` in mail-archive's missing-folder scenario: never a way
    /// out of it). Any other failure (its output's files, its folder, its sandbox) is a
    /// step of the harness's own.
    fn spawn(&mut self, name: &str, role: &str, spec: &ProcessSpec) -> StepResult<ProgramHandle> {
        let program = self.program_of(role);
        let in_a_missing_folder = program.workdir == Some(Workdir::Site)
            && self
                .scenario
                .dir_tree
                .as_ref()
                .is_some_and(|dir| dir.missing);
        let known_good = program.known_good;
        let error = match self.world.start(name, spec) {
            Ok(handle) => return Ok(handle),
            Err(error) => error,
        };
        let command = shell_words::join(&spec.argv);
        if crate::world::real::start_failure::is_the_programs(&error) || in_a_missing_folder {
            if !known_good {
                self.never_started.push(super::NeverStarted {
                    name: name.to_owned(),
                    role: role.to_owned(),
                    command_line: command.clone(),
                    why: error.to_string(),
                });
            }
            return Err(StepFailure {
                status: Status::Error,
                expected: format!("`{command}` to start"),
                seen: format!("{}{error}", run_record::started::COULD_NOT_START),
                diff: None,
            });
        }
        // The command line goes in the step log, not the first line: it names the private
        // copy's temporary folder, which changes from run to run.
        let shown = self.shown(&command);
        self.note(format!("{name}: `{shown}` could not be started: {error}"));
        Err(StepFailure {
            status: Status::Error,
            expected: format!("the harness to start {name}"),
            seen: error.to_string(),
            diff: None,
        })
    }
}
