//! The submission's programs: how the engine starts one (its command line filled in, its
//! port chosen or held, its folder, the stand-ins a task's other role needs, the short-call
//! library, the test CA), and the ports it hard-codes waited for on a shared loopback.

use super::*;
use crate::scenario::GivenFile;
use crate::site::Copied;
use std::path::Path;

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
        let program = self.roles.get(role).ok_or_else(|| StepFailure {
            status: Status::Error,
            expected: format!("a program for role `{role}`"),
            seen: "none was submitted".into(),
            diff: None,
        })?;
        let mut values: BTreeMap<&str, String> = with
            .iter()
            .map(|(key, value)| (key.as_str(), value.clone()))
            .collect();
        let mut occupied_port = None;
        let mut network = None;
        // On a shared loopback, what it hard-codes is moved (see `redirect`).
        let redirecting = self.redirects(role);
        let mut redirected: Vec<(u16, u16)> = Vec::new();
        // A forwarder listens on `{port}` and connects to `{host}:{port2}`: the two halves
        // below, one after the other.
        let forwards = program.uses_placeholder("port2");
        let (host, port) = match to {
            Some(endpoint) if forwards => {
                let (target_host, target_port) = match endpoint {
                    Endpoint::Named(target) => self.endpoint_address(target)?,
                    Endpoint::Unused => (self.world.host_of(name), self.fresh_port()?),
                };
                let (host, port, occupied) = self.own_address(
                    name,
                    role,
                    port_choice,
                    redirecting.then_some(&mut redirected),
                )?;
                occupied_port = occupied;
                values.insert("host", target_host);
                values.insert("port2", target_port.to_string());
                values.insert("port", port.to_string());
                (Some(host), Some(port))
            }
            Some(endpoint) => {
                let (host, port) = match endpoint {
                    Endpoint::Named(target) => {
                        // The capture names the program connecting to a relay or peer.
                        self.transcript.name_client(target, name);
                        self.endpoint_address(target)?
                    }
                    // Its own machine, on a port nobody listens on (or the one it
                    // hard-codes: in the scenario's own namespace nobody listens there).
                    Endpoint::Unused => (
                        self.world.host_of(name),
                        match (&self.world, program.fixed_port) {
                            (World::Real(_), Some(fixed)) if !redirecting => fixed,
                            _ => self.fresh_port()?,
                        },
                    ),
                };
                // On a shared loopback, its hard-coded port leads where the scenario points
                // it, and so do the task's well-known ports (a client that always speaks
                // TLS on 993 meets the peer there): no stand-in is needed.
                if redirecting {
                    let fixed = program.fixed_port.filter(|fixed| *fixed != port);
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
                match (endpoint, &self.world, program.fixed_port) {
                    (Endpoint::Named(_), World::Real(_), Some(fixed)) if redirecting => {
                        values.insert("host", host);
                        values.insert("port", fixed.to_string());
                    }
                    (Endpoint::Named(target), World::Real(_), Some(fixed)) if fixed != port => {
                        network = self.stand_in(name, target, Some(fixed), (&host, port))?;
                        values.insert("host", host);
                        values.insert("port", fixed.to_string());
                    }
                    // The task's well-known ports, in the scenario's namespace: the client
                    // is told the peer's address, and may connect to `smtp.example.com:587`
                    // instead.
                    (Endpoint::Named(target), World::Real(_), _) if !well_known.is_empty() => {
                        self.stand_in(name, target, None, (&host, port))?;
                        values.insert("host", host);
                        values.insert("port", port.to_string());
                    }
                    _ => {
                        values.insert("host", host);
                        values.insert("port", port.to_string());
                    }
                }
                (None, None)
            }
            None => {
                let (host, port, occupied) = self.own_address(
                    name,
                    role,
                    port_choice,
                    redirecting.then_some(&mut redirected),
                )?;
                occupied_port = occupied;
                values.insert("host", host.clone());
                values.insert("port", port.to_string());
                (Some(host), Some(port))
            }
        };
        let program = self.roles.get(role).expect("looked up above");
        let workdir = match &program.workdir {
            Some(Workdir::Folder(folder)) => Some(folder.clone()),
            Some(Workdir::Site) => Some(PathBuf::from(self.site_root()?)),
            None => None,
        };
        // `{dir}` in the command line, or in the scenario's `args` (a file of the folder
        // to upload: `{dir}/photo.bin`).
        let served = if program.uses_site() || extra_args.iter().any(|arg| arg.contains("{dir}")) {
            let root = self.site_root()?;
            values.insert("dir", root.clone());
            Some(PathBuf::from(root))
        } else {
            None
        };
        let program = self.roles.get(role).expect("looked up above");
        // A program that always opens its own file (`with = { file = "test.bin" }`) finds
        // the scenario's file under that name where it runs, and is not given the word
        // that names it (`crate::scenario::GivenFile`).
        let mut own_file = None;
        let mut extra_args = extra_args.to_vec();
        if let Some(file) = program.hard_coded_file().map(str::to_owned) {
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
                    own_file = Some(crate::world::real::process::OwnFile {
                        name: PathBuf::from(&file),
                        source,
                    });
                }
                None => self.note(format!(
                    "{name}: this scenario gives it no file to open; `{file}` (submission.toml `with`) is not made"
                )),
            }
        }
        let program = self.roles.get(role).expect("looked up above");
        let hold_stdin = hold_stdin || program.hold_stdin;
        // The file it opens is said where it is put, above.
        if program
            .own_values
            .keys()
            .any(|key| key != crate::target::HARD_CODED_FILE)
        {
            let values: Vec<String> = program
                .own_values
                .iter()
                .filter(|(key, _)| *key != crate::target::HARD_CODED_FILE)
                .map(|(key, value)| match key.starts_with("--") {
                    true => format!("`{key} {value}`"),
                    false => format!("{{{key}}} = `{value}`"),
                })
                .collect();
            self.note(format!(
                "{name} hard-codes {} (submission.toml `with`): the scenario uses that instead of its own value",
                values.join(", ")
            ));
        }
        if !program.site_files.is_empty() {
            // Copied when the site was made, before any program could write there.
            self.site_root()?;
        }
        let program = self.roles.get(role).expect("looked up above");
        if program.login != crate::target::Login::default() {
            let login = &program.login;
            self.note(format!(
                "{name} hard-codes the login {} with password {} (submission.toml): the scenario's login, where it gives one, is that one",
                login.user.as_deref().unwrap_or("(the scenario's user)"),
                login.password.as_deref().unwrap_or("(the scenario's password)")
            ));
        }
        let program = self.roles.get(role).expect("looked up above");
        // `{kit}` in a scenario's `args` is the kit's folder: programs run elsewhere, and
        // an attachment is named by its full path. `{host}` and `{port}` are the peer of
        // `to`, for an option the command line has only sometimes (`--dns {host}:{port}`).
        let kit = self.scenario.kit_root.display().to_string();
        let extra_args: Vec<String> = extra_args
            .iter()
            .map(|arg| crate::target::fill(&arg.replace("{kit}", &kit), &values))
            .collect();
        // `{--user}` in its command line or stdin: the value the scenario gives that
        // option, placed there (a program that takes positional words, or reads its login
        // with input()); the option itself is then not appended. `{1}`, `{2}`: the
        // scenario's words that are not options (an address read with input()), the same
        // way (`crate::target::placeholders`).
        let option_values = crate::target::option_values(&extra_args);
        for (option, value) in &option_values {
            values.insert(option.as_str(), value.clone());
        }
        let positional = crate::target::placeholders::positional_words(&extra_args);
        for (name, word) in crate::target::placeholders::POSITIONAL_NAMES
            .iter()
            .zip(positional)
        {
            values.insert(name, word);
        }
        // A value it places that this scenario does not give (`{--user}` where it logs in
        // with none, `{2}` where it gives one word) is empty, not the placeholder's text.
        let mut unset: Vec<String> = program
            .template
            .iter()
            .chain(program.stdin_prefix.as_ref())
            .flat_map(|text| crate::target::placeholders::names_in(text))
            .filter(|placeholder| {
                (placeholder.starts_with('-') || placeholder.parse::<usize>().is_ok())
                    && !values.contains_key(placeholder.as_str())
            })
            .collect();
        unset.sort();
        unset.dedup();
        for placeholder in &unset {
            values.insert(placeholder.as_str(), String::new());
        }
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
        let program = self.roles.get(role).expect("looked up above");
        let extra_args = crate::target::placeholders::without_positionals(
            &extra_args,
            &program.placed_positionals(),
        );
        let placed = program.placed_options();
        let extra_args = crate::target::without_options(&extra_args, &placed);
        let mut argv = program.command_line(&values);
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
                let mut bytes = crate::target::fill(prefix, &values).into_bytes();
                if let Some(payload) = &stdin {
                    bytes.extend(payload.bytes());
                }
                Some(Payload::Bytes(bytes.into()))
            }
            None => stdin,
        };
        let program = self.roles.get(role).expect("looked up above");
        // The prompts it writes before it reads its lines (`prompts`, `line_prompt`).
        let lines = stdin.as_ref().map_or(0, |payload| {
            crate::target::prompts::lines_in(&payload.bytes())
        });
        let prompts = crate::target::prompts::in_order(program, lines);
        if !program.prompts.is_empty() {
            let prompts: Vec<String> = program
                .prompts
                .iter()
                .map(|prompt| format!("`{}`", crate::escape::escaped(prompt)))
                .collect();
            self.note(format!(
                "{name}: its prompts {} (submission.toml `prompts`) are not output: each is taken off its stdout once, in that order",
                prompts.join(", ")
            ));
        }
        if let Some(prompt) = &program.line_prompt {
            self.note(format!(
                "{name}: its prompt `{}` (submission.toml `line_prompt`) is not output: taken off its stdout before each of the {lines} lines of its stdin and once before the end, at most {} times",
                crate::escape::escaped(prompt),
                lines + 1
            ));
        }
        let login = &self.roles.get(role).expect("looked up above").login;
        for dropped in mapped.dropped {
            self.note(format!(
                "{name}: `{dropped}` left out (submission.toml drops it for role {role})"
            ));
            // The login it hard-codes stands for `--user`, `--password` and `--auth`:
            // nothing is missing (`crate::scenario::adapt`).
            let option = dropped.split_whitespace().next().unwrap_or_default();
            let replaced_by_login = (option == "--user" && login.user.is_some())
                || (option == "--password" && login.password.is_some())
                || (option == "--auth" && login.user.is_some() && login.password.is_some());
            // An option whose value the manifest declares (`with = { "--from" = ... }`)
            // is not missing either: the scenario uses the program's value.
            let declared = self
                .roles
                .get(role)
                .is_some_and(|program| program.own_values.contains_key(option));
            if replaced_by_login || declared {
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
        // The packages its `requirements` lists could not be installed: whatever fails
        // of it may be their absence (an import that fails), not its code.
        if let Some(missing) = &self
            .roles
            .get(role)
            .expect("looked up above")
            .packages_missing
        {
            self.caveats.push(Caveat {
                text: missing.clone(),
                about: vec!["import".into(), "no module named".into()],
                program: Some(name.to_owned()),
            });
        }
        // A real program's system trusts the test CA alone (its view's certificate store),
        // so a client that verifies reaches any peer that speaks TLS, under any name; a
        // simulated one is told the CA only where a peer speaks TLS.
        let trust_file = if self.speaks_tls() || matches!(self.world, World::Real(_)) {
            let ca = crate::tls::test_ca().map_err(|error| harness_trouble(error.to_string()))?;
            Some(ca.ca_file().to_owned())
        } else {
            None
        };
        let short_calls = match short_calls {
            Some(plan) => self.short_calls(name, &plan, &argv, workdir.as_deref())?,
            None => None,
        };
        let redirect = if redirecting {
            // What it sends to port 53 (the system's resolver, any address) reaches the
            // scenario's DNS.
            let dns = crate::peers::dns::DNS_PORT;
            redirected.extend(self.internet.moved_dns_port.map(|moved| (dns, moved)));
            self.redirection(name, redirected)?
        } else {
            None
        };
        // What a peer puts in the program's `HOME` (the SSH pack's known_hosts), for the
        // address the program is told.
        let home_files = match (to, values.get("host"), values.get("port")) {
            (Some(Endpoint::Named(target)), Some(host), Some(port)) => {
                match (self.servers.get(target), port.parse::<u16>()) {
                    (Some(peer), Ok(port)) => peer.client_home_files(host, port),
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        for (path, _) in &home_files {
            self.note(format!(
                "{name}: ~/{} written by the `{}` peer",
                path.display(),
                match to {
                    Some(Endpoint::Named(target)) => target.as_str(),
                    _ => "",
                }
            ));
        }
        let spec = ProcessSpec {
            argv,
            workdir,
            stdin: stdin.clone(),
            output_cap,
            occupied_port,
            trust_file,
            network,
            short_calls,
            redirect,
            tcp_ports: self.tcp_ports.clone(),
            served,
            hold_stdin,
            home_files,
            visible_roots,
            python_path: program.python_path.clone(),
            prompts,
            own_file,
            sandbox: self.settings.sandbox.clone(),
            endings: self.endings.clone(),
        };
        // A command that does not exist is the submission's; so is a working folder the
        // manifest puts where the scenario leaves a folder missing on purpose (`workdir =
        // "{dir}"` in mail-archive's missing-folder scenario: never a way out of it). Any
        // other failure (its output's files, its folder, its sandbox) is a step of the
        // harness's own.
        let in_a_missing_folder = self.roles.get(role).is_some_and(|program| {
            program.workdir == Some(Workdir::Site)
                && self
                    .scenario
                    .dir_tree
                    .as_ref()
                    .is_some_and(|dir| dir.missing)
        });
        let handle = match self.world.start(name, &spec) {
            Ok(handle) => handle,
            Err(error) => {
                let command = shell_words::join(&spec.argv);
                if crate::world::real::start_failure::is_the_programs(&error) || in_a_missing_folder
                {
                    if !self
                        .roles
                        .get(role)
                        .is_some_and(|program| program.known_good)
                    {
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
                // The command line goes in the step log, not the first line: it names the
                // private copy's temporary folder, which changes from run to run.
                let shown = self.shown(&command);
                self.note(format!("{name}: `{shown}` could not be started: {error}"));
                return Err(StepFailure {
                    status: Status::Error,
                    expected: format!("the harness to start {name}"),
                    seen: error.to_string(),
                    diff: None,
                });
            }
        };
        let stdin_note = stdin
            .map(|payload| format!(", stdin: {}", payload.describe()))
            .unwrap_or_default();
        self.note(format!(
            "{name}: `{}` ({}{stdin_note})",
            self.shown(handle.command_line()),
            handle.whereabouts()
        ));
        let known_good = self
            .roles
            .get(role)
            .is_some_and(|program| program.known_good);
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
        Ok(())
    }

    /// Where the program of `role`, started as `name`, listens: its host, a fresh port (or
    /// its hard-coded one, or one the harness holds busy), and that busy port's holder.
    ///
    /// With `redirected` (a shared loopback), a hard-coded port is not used: the program
    /// gets a fresh one (or a busy one), and the pair is added for the interposed library.
    pub(super) fn own_address(
        &mut self,
        name: &str,
        role: &str,
        port_choice: PortChoice,
        redirected: Option<&mut Vec<(u16, u16)>>,
    ) -> StepResult<(String, u16, Option<u16>)> {
        let program = self.roles.get(role).expect("looked up by start_program");
        let (fixed_port, fixed_host) = (program.fixed_port, program.host.clone());
        let mut occupied_port = None;
        let redirecting = redirected.is_some();
        let port = match (port_choice, fixed_port) {
            (PortChoice::Busy, fixed) => {
                let port = self.occupy_port(name, fixed.filter(|_| !redirecting))?;
                occupied_port = Some(port);
                port
            }
            (PortChoice::Fresh, Some(fixed)) if !redirecting => fixed,
            (PortChoice::Fresh, _) => self.fresh_port()?,
        };
        if let (Some(redirected), Some(fixed)) = (redirected, fixed_port) {
            redirected.push((fixed, port));
        }
        let host = match (&self.world, fixed_host) {
            (World::Real(_), Some(host)) => host,
            _ => self.world.host_of(name),
        };
        Ok((host, port, occupied_port))
    }

    /// What program `name` (`argv`, run in `workdir`) needs to have its own socket calls cut
    /// short as `plan` says: on real sockets, the short-call library and its setting, or an
    /// `ERROR` saying the check cannot be applied to this program (a static binary, which no
    /// dynamic loader starts); in the simulated world, nothing more (the short-I/O adapter
    /// already cuts the reference's calls).
    pub(super) fn short_calls(
        &mut self,
        name: &str,
        plan: &crate::faults::short_calls::ShortCalls,
        argv: &[String],
        workdir: Option<&std::path::Path>,
    ) -> StepResult<Option<crate::faults::short_calls::Injection>> {
        use crate::faults::short_calls;
        if let World::Simulated(_) = self.world {
            self.note(format!(
                "{name}: {}, as the simulated world's short-I/O adapter does to every stream of the reference",
                plan.describe()
            ));
            return Ok(None);
        }
        let program = argv.first().map(String::as_str).unwrap_or_default();
        let traced = self
            .settings
            .sandbox
            .layers
            .allows(sandbox::Layer::ShortCallTracer)
            .is_ok();
        let entered = short_calls::can_enter(program, workdir);
        if let (Err(reason), true) = (&entered, traced) {
            // The tracer cuts what the library cannot reach.
            self.note(format!(
                "{name}: the short-call library cannot enter it ({reason}): sandbox-init's tracer alone cuts its calls"
            ));
        } else if let Err(reason) = entered {
            return Err(StepFailure {
                status: Status::Error,
                expected: format!(
                    "to load the short-call library into {name} with LD_PRELOAD, to cut its own socket calls short"
                ),
                seen: format!(
                    "the check could not be applied: {reason}; this scenario cannot tell whether {name} checks what its socket calls return"
                ),
                diff: None,
            });
        }
        let library = short_calls::library(&self.scenario.kit_root, &self.settings.sandbox.layers)
            .map_err(harness_trouble)?;
        let mut setting = plan.setting(self.seed, &self.scenario.id, name);
        if traced {
            // The library then lets the program run what it cannot enter: the tracer cuts
            // that program's calls too.
            setting += ",traced=1";
        }
        self.note(format!(
            "{name}: {} (LD_PRELOAD={}, {}=\"{setting}\"{})",
            plan.describe(),
            library.display(),
            short_calls::SETTING_VARIABLE,
            if traced {
                "; sandbox-init traces its send and receive calls and cuts them too"
            } else {
                ""
            }
        ));
        Ok(Some(short_calls::Injection { library, setting }))
    }

    /// On a shared loopback a port the submission hard-codes may still be in TIME_WAIT
    /// from the scenario before; a server that does not set `SO_REUSEADDR` could not bind
    /// it, so wait for it (in a namespace of its own, the port is always free).
    ///
    /// It also settles which TCP ports the scenario's programs are walled to there: its
    /// block, and each port a program hard-codes that the interposed library cannot move
    /// (a static binary's) once it is free, never one another program of this machine
    /// holds (a grader's service a manifest names).
    pub(super) async fn wait_for_fixed_ports(&mut self) {
        let World::Real(crate::world::real::ports::Loopback::Shared(block)) = &self.world else {
            return;
        };
        let mut tcp_ports = block.tcp_ports();
        if self.scenario.datagrams {
            tcp_ports = tcp_ports.with_datagrams();
        }
        let mut fixed: Vec<(u16, String)> = Vec::new();
        for role in self.scenario.roles() {
            if let Some(port) = self.roles.get(role).and_then(|program| program.fixed_port)
                && !self.redirects(role)
                && !fixed.iter().any(|(known, _)| *known == port)
            {
                fixed.push((port, role.to_owned()));
            }
        }
        for (port, role) in fixed {
            if self.wait_for_fixed_port(&role, port).await {
                tcp_ports = tcp_ports.with(port);
            }
        }
        self.tcp_ports = Some(tcp_ports);
    }

    /// Waits for `fixed` to be free; whether it is no other program's (free, or in
    /// `TIME_WAIT` only).
    pub(super) async fn wait_for_fixed_port(&mut self, name: &str, fixed: u16) -> bool {
        if ports::bindable_without_reuse(fixed) {
            return true;
        }
        let lingering = ports::connections_in_time_wait(fixed);
        match ports::wait_bindable(fixed, FIXED_PORT_WAIT).await {
            Some(waited) => {
                self.note(format!(
                    "port {fixed}, which the {name} hard-codes, was held by {lingering} connection(s) in TIME_WAIT: waited {:.1} s for it",
                    waited.as_secs_f64()
                ));
                true
            }
            None if lingering > 0 => {
                let explained = format!(
                    "port {fixed}, which the {name} hard-codes, was still held by {lingering} connection(s) in TIME_WAIT from an earlier scenario after {} s: a server that does not set SO_REUSEADDR cannot bind it until they expire (on a shared loopback; the harness gives every scenario its own network where it may)",
                    FIXED_PORT_WAIT.as_secs()
                );
                self.note(explained.clone());
                self.caveats.push(Caveat {
                    text: explained,
                    about: Vec::new(),
                    program: None,
                });
                true
            }
            None => {
                let explained = format!(
                    "port {fixed}, which the {name} hard-codes, is held by another program on this machine (where a scenario shares the machine's loopback, its programs may not reach it)"
                );
                self.note(explained.clone());
                self.caveats.push(Caveat {
                    text: explained,
                    about: Vec::new(),
                    program: None,
                });
                false
            }
        }
    }

    /// Whether a peer of the scenario speaks TLS (a mail server offering STARTTLS): its
    /// programs are then told to trust the harness's test CA.
    pub(super) fn speaks_tls(&self) -> bool {
        self.scenario
            .steps
            .iter()
            .any(|step| step.action.0.offers_tls())
    }

    /// The scenario's web site (prepared the first time a program needs `{dir}`).
    pub(super) fn site_root(&mut self) -> StepResult<String> {
        if self.site.is_none() {
            let site = match &self.scenario.dir_tree {
                None => {
                    let site =
                        crate::site::Site::prepare(&self.scenario.kit_root).map_err(|error| {
                            harness_trouble(format!("cannot prepare the web site: {error}"))
                        })?;
                    self.note(format!(
                        "site prepared: {} (fixtures/www/, notes.txt, big.bin, small.bin, link-to-secret.txt), secret.txt next to it",
                        site.shown()
                    ));
                    site
                }
                Some(dir) => {
                    let tree = &dir.tree;
                    let name = &tree.name;
                    let site =
                        crate::site::Site::from_tree(tree, dir.missing).map_err(|error| {
                            harness_trouble(format!("cannot write the folder {name}: {error}"))
                        })?;
                    self.note(if dir.missing {
                        format!("{{dir}} is {}, a folder that does not exist", site.shown())
                    } else {
                        format!(
                            "folder prepared: {}: {} (fixtures/trees/{name}.toml)",
                            site.shown(),
                            tree.describe()
                        )
                    });
                    site
                }
            };
            let root = site.root();
            self.site = Some(site);
            self.copy_site_files(&root)?;
        }
        let root = self.site.as_ref().expect("prepared above").root();
        Ok(root.display().to_string())
    }

    /// Copies every role's `site_files` into the site at `root`, as the harness makes it:
    /// before any program of the scenario runs, so that none can have put a link where a
    /// file is copied (a program started earlier, with the site writable, could lead the
    /// harness's copy anywhere on the machine).
    fn copy_site_files(&mut self, root: &std::path::Path) -> StepResult<()> {
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for role in self.scenario.roles() {
            if let Some(program) = self.roles.get(role) {
                files.extend(
                    program
                        .site_files
                        .iter()
                        .map(|file| (role.to_string(), file.clone())),
                );
            }
        }
        // One budget for all of them: the bounds are on what the scenario's folder holds.
        let mut budget = crate::site::CopyBudget::default();
        for (role, file) in files {
            let copied = crate::site::copy_into(&file, root, &mut budget).map_err(|error| {
                harness_trouble(format!(
                    "cannot copy {} into the test site: {error}",
                    file.display()
                ))
            })?;
            match copied {
                Copied::Whole => self.note(format!("{role}: {} copied into the test site (submission.toml `site_files`)", file.display())),
                Copied::Left => self.note(format!("{role}: {} not copied: it is a symbolic link, or the test site has a file of that name already", file.display())),
                // What a program of the submission left in its folder (a file grown, an
                // 8 GiB sparse file): the submission's fault, and the scenario's failure.
                Copied::PastBound(said) => {
                    self.note(format!("{role}: {said}"));
                    return Err(StepFailure::fail(
                        format!(
                            "{role}'s `site_files` within the harness's bounds on what it copies ({} a file, {} in all, {} entries)",
                            sandbox::size_text(crate::site::MAX_SITE_FILE_BYTES),
                            sandbox::size_text(crate::site::MAX_SITE_COPY_BYTES),
                            crate::site::MAX_SITE_COPY_ENTRIES
                        ),
                        said,
                    ));
                }
            }
        }
        Ok(())
    }

    /// [`Run::shown`] for a program's output, which may not be text: the site's path is
    /// replaced where its bytes occur.
    pub(super) fn shown_bytes(&self, bytes: Vec<u8>) -> Vec<u8> {
        let Some(site) = &self.site else {
            return bytes;
        };
        let root = site.root().display().to_string().into_bytes();
        if root.is_empty() || !bytes.windows(root.len()).any(|window| window == root) {
            return bytes;
        }
        let mut shown = Vec::with_capacity(bytes.len());
        let mut rest = bytes.as_slice();
        while let Some(at) = rest.windows(root.len()).position(|window| window == root) {
            shown.extend_from_slice(&rest[..at]);
            shown.extend_from_slice(site.shown().as_bytes());
            rest = &rest[at + root.len()..];
        }
        shown.extend_from_slice(rest);
        shown
    }

    /// `text` with the site's temporary path written `<site>/root`: the folder is gone
    /// after the run, and reports must not change from one run to the next.
    pub(super) fn shown(&self, text: &str) -> String {
        let mut text = match &self.site {
            Some(site) => text.replace(&site.root().display().to_string(), site.shown()),
            None => text.to_owned(),
        };
        // The test CA's file is made anew by each harness process (and only made at all for
        // a scenario that speaks TLS).
        if self.speaks_tls()
            && let Ok(ca) = crate::tls::test_ca()
        {
            text = text.replace(&ca.ca_file().display().to_string(), "<test-ca.pem>");
        }
        text
    }

    pub(super) fn fresh_port(&self) -> StepResult<u16> {
        self.world
            .fresh_port()
            .map_err(|error| harness_trouble(format!("no free port: {error}")))
    }

    /// A port another socket already listens on, for program `name` to fail to bind.
    pub(super) fn occupy_port(&mut self, name: &str, fixed: Option<u16>) -> StepResult<u16> {
        let occupied = self
            .world
            .occupy_port(name, fixed)
            .map_err(|error| harness_trouble(format!("cannot occupy a port: {error}")))?;
        self.held_ports.extend(occupied.occupant);
        self.note(occupied.note);
        Ok(occupied.port)
    }
}

impl Run<'_> {
    /// Whether what the program of `role` hard-codes is moved by the interposed library:
    /// on real sockets sharing this machine's loopback (no network namespace per
    /// scenario), when the library is built and can enter the program (not a static
    /// binary). Otherwise a hard-coded port is waited for while it is in `TIME_WAIT`.
    pub(super) fn redirects(&self, role: &str) -> bool {
        if !matches!(self.world, World::Real(_)) || self.settings.namespace_per_scenario() {
            return false;
        }
        self.roles.get(role).is_some_and(|program| {
            redirectable(
                program,
                &self.scenario.kit_root,
                &self.settings.sandbox.layers,
            )
        })
    }

    /// The library and the redirections for program `name`, said in the step log.
    fn redirection(
        &mut self,
        name: &str,
        mut ports: Vec<(u16, u16)>,
    ) -> StepResult<Option<crate::world::real::redirect::Redirection>> {
        use crate::world::real::redirect::{MOST_PORTS, Redirection};
        let library = crate::faults::short_calls::library(
            &self.scenario.kit_root,
            &self.settings.sandbox.layers,
        )
        .map_err(harness_trouble)?;
        ports.dedup_by_key(|(from, _)| *from);
        ports.truncate(MOST_PORTS);
        let redirection = Redirection { library, ports };
        // Without a view its `/tmp` is moved too (the sandbox's `FILES_VARIABLE`).
        let tmp = match self.settings.sandbox.layers.allows(sandbox::Layer::View) {
            Ok(()) => "",
            Err(_) => ", /tmp → its own folder",
        };
        self.note(format!(
            "{name}: no network of its own on this machine, so what it hard-codes is moved by the interposed library ({}{tmp})",
            redirection.describe()
        ));
        Ok(Some(redirection))
    }
}

/// Whether the interposed library can enter every program of a task (`roles`), sandboxed
/// with `layers`: on a shared loopback, only then are its queries to port 53 moved to the
/// scenario's DNS.
pub(crate) fn all_redirectable(
    roles: &BTreeMap<String, RoleProgram>,
    kit_root: &std::path::Path,
    layers: &sandbox::Layers,
) -> bool {
    roles
        .values()
        .all(|program| redirectable(program, kit_root, layers))
}

/// Whether a program of `target` hard-codes a port the interposed library cannot move (a
/// static binary) when sandboxed with `layers`: on a shared loopback its scenarios then
/// run one at a time.
pub(crate) fn fixed_ports_stay(
    target: &crate::target::Target,
    kit_root: &std::path::Path,
    layers: &sandbox::Layers,
) -> bool {
    target
        .programs
        .values()
        .flat_map(|roles| roles.values())
        .any(|program| program.fixed_port.is_some() && !redirectable(program, kit_root, layers))
}

/// Whether the interposed library can move what `program` hard-codes: the library is
/// built (and within reach of a program sandboxed with `layers`), and the program is
/// started by the dynamic loader (not a static binary).
fn redirectable(
    program: &RoleProgram,
    kit_root: &std::path::Path,
    layers: &sandbox::Layers,
) -> bool {
    let Some(argv0) = program.template.first() else {
        return false;
    };
    let workdir = match &program.workdir {
        Some(Workdir::Folder(folder)) => Some(folder.as_path()),
        _ => None,
    };
    crate::faults::short_calls::library(kit_root, layers).is_ok()
        && crate::faults::short_calls::can_enter(argv0, workdir).is_ok()
}
