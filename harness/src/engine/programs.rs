//! What starting a submission's program needs (its port chosen or held, the short-call
//! library, the site it serves, the ports moved for it): the start itself is
//! `start_program.rs`. And the ports programs hard-code, waited for on a shared loopback.

use super::*;
use crate::site::Copied;

impl Run<'_> {
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
        let program = self.program_of(role);
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
    pub(super) fn redirection(
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
