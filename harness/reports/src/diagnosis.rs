//! The sentence a student reads first: what is wrong, in which of the student's programs,
//! and what to do (issue 40 §1).
//!
//! A failure's step says what it expected and saw, and the engine's cause names a program
//! that crashed (`engine/cause.rs`). Neither is always about the program at fault: a
//! known-good client the submission borrows (a companion, `--companions`) that dies of
//! `Connection reset by peer`, or a harness client whose sending fails with `Broken pipe`,
//! met a server that closed the connection too early. The sentence names that server, never
//! the companion nor the harness's own peer, and every report opens the failure with it
//! (terminal, JSON, JUnit, Gradescope, PrairieLearn, Classroom, HTML).
//!
//! Failures with the same [`Diagnosis::group`] share one cause: the closing summary lists
//! them under it.

use run_record::outcome::{Outcome, ProgramReport, Status};

/// What is wrong with a failed scenario, for the student.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// The program at fault (`your server`), when one can be told.
    pub blamed: Option<String>,
    /// What went wrong in this scenario: `your server printed only 4096 of the 20480 bytes
    /// expected (all correct so far), then nothing more`.
    pub defect: String,
    /// What to do about it.
    pub remedy: String,
    /// The cause shared by failures that have the same, in general words (`your server
    /// closes a connection before it has read all it was sent`): the closing summary's
    /// heading.
    pub group: String,
    /// The kind of cause.
    pub kind: Kind,
}

/// The shapes of failure the sentence knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The other side of a connection (a known-good program, a harness client) met a
    /// reset or a closed connection while it still sent: the program stopped reading.
    ClosedEarly,
    /// A program's output is a correct beginning of what was expected, and stops there.
    ShortOutput,
    /// A program of the submission refused the command line it was given (a usage
    /// error): it never did what the scenario is about.
    CommandLine,
    /// A program of the submission stopped at its start (a file that does not compile,
    /// an import that fails): it never did what the scenario is about.
    DidNotStart,
    /// A program of the submission crashed, or the harness stopped it.
    Crash,
    /// The harness could not do its own part of the scenario (add interfaces, listen on a
    /// port a program hard-codes): no defect of the student's.
    HarnessTrouble,
    /// Anything else: what the step expected and saw.
    Other,
}

impl Diagnosis {
    /// The one sentence: `Your server closed … : read until … .`
    pub fn sentence(&self) -> String {
        let defect = capitalized(self.defect.trim_end_matches('.'));
        let remedy = self.remedy.trim_end_matches('.');
        if remedy.is_empty() {
            format!("{defect}.")
        } else {
            format!("{defect}: {remedy}.")
        }
    }
}

/// The cause shared by a program whose output stops short and one that closes a
/// connection early: both read less than they are sent (one `recv` for a message).
fn does_not_read_it_all(who: &str) -> String {
    format!(
        "{who} does not read all it is sent (its output stops short, or it closes the connection before the end)"
    )
}

/// The remedy for a program that stops reading before the end of what it is sent.
const READ_TO_THE_END: &str = "read in a loop until recv() returns no bytes (the other side closed), handling each piece as it comes, and close the connection only then";

/// The diagnosis of a failed (or missed) scenario; `None` when it has no failure.
///
/// A handicap the scenario ran with that bears on the failure (`(note: submission.toml
/// drops `--count 3` …)`, which the engine adds to what was seen) is said in the first
/// line too: the student must not look for a defect the manifest made.
pub fn diagnose(outcome: &Outcome) -> Option<Diagnosis> {
    let mut diagnosis = diagnosis_of(outcome)?;
    if diagnosis.kind != Kind::HarnessTrouble {
        let seen = outcome.failure.as_ref().map_or("", |failure| &failure.seen);
        for note in notes(seen) {
            diagnosis.defect = format!("{} ({note})", diagnosis.defect.trim_end_matches('.'));
        }
    }
    Some(diagnosis)
}

/// Each `(note: …)` aside of `seen`, without its brackets.
fn notes(seen: &str) -> Vec<&str> {
    const OPENING: &str = " (note: ";
    let mut found = Vec::new();
    let mut rest = seen;
    while let Some(at) = rest.find(OPENING) {
        let inside = &rest[at + 2..];
        let end = closing_bracket(inside).unwrap_or(inside.len());
        found.push(&inside[..end]);
        rest = &inside[end..];
    }
    found
}

/// Where the bracket closing one opened just before `inside` is (brackets inside it
/// counted); `None` if none does.
fn closing_bracket(inside: &str) -> Option<usize> {
    let mut depth = 1;
    inside
        .char_indices()
        .find(|&(_, c)| {
            depth += match c {
                '(' => 1,
                ')' => -1,
                _ => 0,
            };
            depth == 0
        })
        .map(|(close, _)| close)
}

fn diagnosis_of(outcome: &Outcome) -> Option<Diagnosis> {
    let failure = outcome.failure.as_ref()?;
    // The harness's own part failed (its steps say so as "expected the harness to ..."):
    // never blame a program for it, nor give the task's hint.
    if outcome.status == Status::Error
        && let Some(what) = failure.expected.strip_prefix("the harness to ")
    {
        let step = if failure.step > 0 {
            format!(" (step {}: {})", failure.step, failure.action)
        } else {
            String::new()
        };
        return Some(Diagnosis {
            blamed: None,
            defect: format!(
                "the harness could not {what}{step}: {}",
                shortened(without_asides(&failure.seen), 200)
            ),
            remedy: "not a defect of your program: the grading machine could not play this scenario; tell your instructor (the report's header says what the machine allows)".into(),
            group: "the harness could not play a scenario on this machine".into(),
            kind: Kind::HarnessTrouble,
        });
    }
    let students: Vec<&ProgramReport> = outcome
        .programs
        .iter()
        .filter(|program| !program.known_good)
        .collect();
    let cause = failure.cause.as_deref().unwrap_or("");
    let said = format!("{} {}", failure.seen, cause).to_lowercase();
    let crashed = super::blame::crashed(outcome);
    let subject = super::blame::subject(outcome);
    // The one program of the submission's own, when there is one: a companion or a
    // harness peer that fails talks to it.
    let only_student = match students[..] {
        [program] => Some(program),
        _ => None,
    };
    // A program is named by the task's role it plays (`your reader`), never by the name a
    // scenario gives it (`direct`), which means nothing to the student.
    let yours = |program: &ProgramReport| format!("your {}", program.role_or_name());
    // A cause is said of the role (`your server`), which several of a scenario's
    // programs may play (`server-small`, `server-big`).
    let role_of = |program: Option<&&ProgramReport>| {
        program.map_or("the program under test".to_owned(), |program| {
            format!("your {}", program.role_or_name())
        })
    };

    // A known-good program that crashed of a reset or a broken pipe, or a harness peer
    // whose sending failed: the program it talks to stopped reading.
    let companion_cut_off = crashed.is_some_and(|program| program.known_good);
    if super::blame::closed_early(outcome) {
        let blamed = only_student.or(subject.filter(|program| !program.known_good));
        let who = blamed.map_or("the program under test".to_owned(), yours);
        let how = if said.contains("reset") || said.contains("errno 104") {
            "reset the connection"
        } else {
            "closed the connection"
        };
        let defect = match (crashed.filter(|_| companion_cut_off), sent_so_far(failure)) {
            (Some(companion), _) => format!(
                "{who} {how} while the known-good {0} was still sending (the {0} ended with \"{1}\", the fault of {who}, not of the {0})",
                companion.name,
                if how.starts_with("reset") {
                    "Connection reset by peer"
                } else {
                    "Broken pipe"
                },
            ),
            (None, Some((peer, sent, of))) => format!(
                "{who} {how} after the harness's client {peer} had sent {sent} of its {of} bytes"
            ),
            (None, None) => format!("{who} {how} before the harness's client had sent everything"),
        };
        return Some(Diagnosis {
            group: does_not_read_it_all(&role_of(blamed.as_ref())),
            blamed: blamed.map(|program| program.name.clone()),
            defect,
            remedy: READ_TO_THE_END.into(),
            kind: Kind::ClosedEarly,
        });
    }
    // A program of the submission whose command could not be started (it names a file
    // that does not exist): nothing else of the scenario could happen.
    if let Some(why) = failure
        .seen
        .strip_prefix(run_record::started::COULD_NOT_START)
        && let Some(program) =
            subject.filter(|program| !program.known_good && program.exit.is_none())
    {
        return Some(Diagnosis {
            blamed: Some(program.name.clone()),
            defect: format!(
                "your {} could not be started: {} (`{}`)",
                program.role_or_name(),
                shortened(why, 160),
                shortened(&program.command_line, 160)
            ),
            remedy: "the command submission.toml gives it must name a file of the submission (a path from its folder) or a program this machine has on its PATH".into(),
            group: format!("your {} could not be started", program.role_or_name()),
            kind: Kind::DidNotStart,
        });
    }
    // A program of the submission that refused its command line: whatever else failed
    // after, that is the defect (a program written with other options, a manifest that
    // does not say how it runs). Not where a usage error is what the scenario asks for.
    let usage_wanted = outcome.requirement.to_lowercase().contains("usage error");
    if let Some((program, reason)) = students
        .iter()
        .filter(|_| !usage_wanted)
        .find_map(|program| refused_command_line(program).map(|reason| (*program, reason)))
    {
        return Some(Diagnosis {
            blamed: Some(program.name.clone()),
            defect: format!(
                "your {} refused the command line the harness gave it ({}): `{}`",
                program.role_or_name(),
                shortened(&reason, 160),
                shortened(&program.command_line, 160)
            ),
            remedy: format!(
                "take the options the task gives (`harness list --task {}` shows its command lines), or say in submission.toml how it runs: a command line with {{host}} and {{port}} where it takes them, `drop` and `rename` for options it takes otherwise",
                outcome.task
            ),
            group: format!("your {} refuses its command line", program.role_or_name()),
            kind: Kind::CommandLine,
        });
    }
    // A program of the submission that stopped at its start: whatever the scenario is
    // about, it never got there. One that printed or connected first ran, whatever its
    // stderr says after (a `NameError` raised in its `finally`).
    if let Some((program, line, shows)) = students
        .iter()
        .filter(|program| !super::blame::did_something(outcome, program))
        .find_map(|program| stopped_at_start(program).map(|(line, shows)| (*program, line, shows)))
    {
        return Some(Diagnosis {
            blamed: Some(program.name.clone()),
            defect: format!(
                "your {} never ran: {shows} (`{}`)",
                program.role_or_name(),
                shortened(&run_record::escape::escaped(&line), 160)
            ),
            remedy: start_remedy(&line, shows),
            group: format!("your {} stops at its start", program.role_or_name()),
            kind: Kind::DidNotStart,
        });
    }
    // A program still running where it should have ended, whose stdout was already wrong
    // by then: what it got wrong is named with that it did not end, not left for a step
    // that was never reached.
    if let Some(diagnosis) = wrong_before_it_was_stopped(failure, &students) {
        return Some(diagnosis);
    }
    // A program of the submission that crashed or was stopped.
    if let Some(program) = crashed.filter(|program| !program.known_good) {
        let hint = first_hint(outcome);
        return Some(Diagnosis {
            blamed: Some(program.name.clone()),
            defect: format!("your {}", said_of_its_role(cause, program)),
            remedy: hint.unwrap_or_else(|| "fix what its last words name".into()),
            group: format!("your {} crashes or is stopped", program.role_or_name()),
            kind: Kind::Crash,
        });
    }
    let blamed = subject
        .filter(|program| !program.known_good)
        .or(only_student);
    let who = blamed.map_or("your program".to_owned(), yours);
    // `4096 of 20480 bytes (all correct so far)`: a correct beginning, then nothing.
    if let Some((got, of)) = correct_beginning(&failure.seen) {
        let stream = failure
            .expected
            .split_whitespace()
            .next()
            .filter(|first| first.ends_with("'s"))
            .and_then(|_| failure.expected.split("'s ").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or("output");
        let remedy = if stream == "stdout"
            && blamed.is_some_and(|program| program.name.contains("server"))
        {
            READ_TO_THE_END.to_owned()
        } else {
            first_hint(outcome).unwrap_or_else(|| READ_TO_THE_END.to_owned())
        };
        // The same cause as a connection closed early, where the remedy is the same.
        let group = if remedy == READ_TO_THE_END {
            does_not_read_it_all(&role_of(blamed.as_ref()))
        } else {
            format!(
                "{} stops short of what it was sent (what came is right, but not all of it)",
                role_of(blamed.as_ref())
            )
        };
        return Some(Diagnosis {
            group,
            blamed: blamed.map(|program| program.name.clone()),
            defect: format!(
                "{who} gave only the first {got} of the {of} bytes expected on its {stream} (all correct so far), then nothing more"
            ),
            remedy,
            kind: Kind::ShortOutput,
        });
    }
    let step = if failure.step > 0 {
        format!(" (step {}: {})", failure.step, failure.action)
    } else {
        String::new()
    };
    Some(Diagnosis {
        group: format!("{who} does not do what a step checks"),
        blamed: blamed.map(|program| program.name.clone()),
        defect: format!(
            "{who} failed a check{step}: expected {}, but saw {}",
            shortened(&failure.expected, 160),
            shortened(without_asides(&failure.seen), 160)
        ),
        remedy: first_hint(outcome).unwrap_or_default(),
        kind: Kind::Other,
    })
}

/// `client was still running after 13000 ms; by then its stdout was already wrong: it
/// numbered ... (a later step expects ...)`, of a program of the submission's own
/// (`students`): the sentence names both, what it got wrong first.
fn wrong_before_it_was_stopped(
    failure: &run_record::outcome::Failure,
    students: &[&ProgramReport],
) -> Option<Diagnosis> {
    use run_record::outcome::{ALREADY_WRONG, LATER_STEP_EXPECTS};
    let (running, wrong) = failure.seen.split_once(ALREADY_WRONG)?;
    let program = students
        .iter()
        .find(|program| running.starts_with(&format!("{} ", program.name)))?;
    // `client was still running after 13000 ms`, without its asides.
    let running = running.split(" (").next().unwrap_or(running);
    Some(Diagnosis {
        blamed: Some(program.name.clone()),
        defect: format!(
            "your {}, and by then its stdout was already wrong: {}",
            said_of_its_role(running, program),
            shortened(&without_parenthesis(wrong, LATER_STEP_EXPECTS), 300)
        ),
        remedy: "fix what it printed, and have it end by itself once its work is done".into(),
        group: format!(
            "your {} goes wrong before it is stopped, and does not end by itself",
            program.role_or_name()
        ),
        kind: Kind::Other,
    })
}

/// `text` (`direct crashed: …`, of the engine, which names programs as the scenario does)
/// said of the role `program` plays (`reader crashed: …`).
fn said_of_its_role(text: &str, program: &ProgramReport) -> String {
    match text.strip_prefix(program.name.as_str()) {
        Some(rest) if rest.starts_with(' ') => format!("{}{rest}", program.role_or_name()),
        _ => text.to_owned(),
    }
}

/// `text` without each parenthesis that opens with `opening` (` (a later step expects`),
/// up to the bracket that closes it, brackets inside it included.
fn without_parenthesis(text: &str, opening: &str) -> String {
    let mut kept = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(opening) {
        kept.push_str(&rest[..at]);
        let inside = &rest[at + opening.len()..];
        let end = closing_bracket(inside).map_or(inside.len(), |close| close + 1);
        rest = &inside[end..];
    }
    kept.push_str(rest);
    kept
}

/// Why a program refused its command line, if it ended with a non-zero status after
/// printing a usage line on stderr: argparse's reason (`the following arguments are
/// required: --server`, from `prog: error: ...`), or the usage line itself.
fn refused_command_line(program: &ProgramReport) -> Option<String> {
    let exit = program.exit.as_ref()?;
    if !matches!(exit.kind, run_record::exit::ExitKind::Code(code) if code != 0) {
        return None;
    }
    let mut stderr = program.stderr.0.clone();
    stderr.extend_from_slice(&program.stderr_tail);
    let text = String::from_utf8_lossy(&stderr);
    let usage = text
        .lines()
        .find(|line| line.trim_start().to_lowercase().starts_with("usage:"))?;
    let reason = text
        .lines()
        .find_map(|line| {
            line.split_once(": error: ")
                .map(|(_, reason)| reason.trim())
        })
        .unwrap_or(usage.trim());
    Some(run_record::escape::escaped(reason).into_owned())
}

/// The line of `program`'s stderr that shows it stopped at its start (not a usage
/// error: [`refused_command_line`] names those), and what it shows; only for a program
/// that ended with a non-zero status.
fn stopped_at_start(program: &ProgramReport) -> Option<(String, &'static str)> {
    let exit = program.exit.as_ref()?;
    if !matches!(exit.kind, run_record::exit::ExitKind::Code(code) if code != 0) {
        return None;
    }
    let mut stderr = program.stderr.0.clone();
    stderr.extend_from_slice(&program.stderr_tail);
    run_record::started::stopped_at_start(&stderr).filter(|(_, shows)| !shows.contains("usage"))
}

/// Modules of Python 2's standard library that Python 3 renamed, moved or merged, as the
/// handouts' programs import them, with what to import instead.
const PYTHON2_MODULES: [(&str, &str); 22] = [
    ("SimpleXMLRPCServer", "xmlrpc.server"),
    ("DocXMLRPCServer", "xmlrpc.server"),
    ("xmlrpclib", "xmlrpc.client"),
    ("SocketServer", "socketserver"),
    ("BaseHTTPServer", "http.server"),
    ("SimpleHTTPServer", "http.server"),
    ("httplib", "http.client"),
    ("urllib2", "urllib.request"),
    ("urlparse", "urllib.parse"),
    ("HTMLParser", "html.parser"),
    ("Queue", "queue"),
    ("thread", "threading (or _thread)"),
    ("ConfigParser", "configparser"),
    ("StringIO", "io (io.StringIO, io.BytesIO)"),
    ("cStringIO", "io (io.StringIO, io.BytesIO)"),
    ("cPickle", "pickle"),
    ("commands", "subprocess"),
    ("Tkinter", "tkinter"),
    ("email.MIMEText", "email.mime.text"),
    ("email.MIMEMultipart", "email.mime.multipart"),
    ("email.MIMEBase", "email.mime.base"),
    ("email.Utils", "email.utils"),
];

/// The Python 3 module for the Python 2 one a failed import names (`No module named
/// 'SimpleXMLRPCServer'`), if it is one of [`PYTHON2_MODULES`].
fn python3_module_for(line: &str) -> Option<(&'static str, &'static str)> {
    let (_, rest) = line.split_once("No module named ")?;
    let missing = rest.trim().trim_matches(['\'', '"']);
    PYTHON2_MODULES
        .iter()
        .find(|(old, _)| *old == missing)
        .copied()
}

/// What to do about a program that stopped at its start, by the line that shows it.
fn start_remedy(line: &str, shows: &str) -> String {
    if line.contains("Missing parentheses in call to 'print'") || line.contains("raw_input") {
        return "this is Python 2 code, and the grading machine runs Python 3 (Debian ships no Python 2): port it: print(...), input() for raw_input(), bytes (b'...', .encode(), .decode()) for what sockets send and receive".into();
    }
    if let Some((old, new)) = python3_module_for(line) {
        return format!(
            "`{old}` is Python 2's, and the grading machine runs Python 3 (Debian ships no Python 2): import {new} instead, and port the rest (print(...), input() for raw_input(), bytes for what sockets send and receive)"
        );
    }
    start_remedy_by_kind(line, shows).into()
}

/// [`start_remedy`] for a program that is not Python 2's.
fn start_remedy_by_kind(line: &str, shows: &str) -> &'static str {
    if line.contains("is not a package") || line.contains("partially initialized module") {
        return "a file of your own named like a standard module (email.py, socket.py, select.py) hides that module from every import: rename it";
    }
    match shows {
        "its file does not compile" => {
            "fix the line the interpreter names, and run the file once yourself before handing it in"
        }
        "an import failed" => {
            "a library the grading machine lacks goes in a requirements file (`requirements = \"requirements.txt\"` in submission.toml); a module of your own goes beside the program; and a file of your own named like a standard module (email.py, socket.py) hides that module: rename it"
        }
        "a name it uses is not defined" => {
            "define the name before it is used (Python 2's raw_input is input in Python 3), and run the file once yourself before handing it in"
        }
        "the interpreter could not open its file" => {
            "hand the file in, or name it in submission.toml as it is called in your folder"
        }
        "Java could not load its class" | "its Java source does not compile" => {
            "compile it (or hand in the .java file the class is declared in), and name the class as its file declares it"
        }
        _ => "make it run on a plain Debian machine: the command it needs must be installed there",
    }
}

/// The diagnosis's sentence, or `None` for an outcome without a failure.
pub fn sentence(outcome: &Outcome) -> Option<String> {
    diagnose(outcome).map(|diagnosis| diagnosis.sentence())
}

/// `sending failed after 2 bytes` with `c1 to send its 1000 bytes` (or `c1 to deliver its
/// 6000 bytes …`): the peer, what it sent, and of how much.
fn sent_so_far(failure: &run_record::outcome::Failure) -> Option<(String, u64, u64)> {
    let sent: u64 = failure
        .seen
        .strip_prefix("sending failed after ")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let mut words = failure.expected.split_whitespace();
    let peer = words.next()?.to_owned();
    let of = failure
        .expected
        .split_once(" its ")?
        .1
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((peer, sent, of))
}

/// `4096 of 20480 bytes (all correct so far)`: what came and what was expected.
fn correct_beginning(seen: &str) -> Option<(u64, u64)> {
    let (head, _) = seen.split_once(" bytes (all correct so far)")?;
    let (got, of) = head.split_once(" of ")?;
    Some((got.trim().parse().ok()?, of.trim().parse().ok()?))
}

/// The hints shown under a failure's first line, each fact once: what the first line's
/// remedy took from the first hint is not said again, and a program that never ran (it
/// refused its command line, or stopped at its start) gets none, its first line saying
/// what to do: a hint about what the scenario checks, or about a crash, bears on a program
/// that ran.
pub fn hints(outcome: &Outcome) -> Vec<String> {
    let mut hints = crate::explain::every_hint(outcome);
    let Some(diagnosis) = diagnose(outcome) else {
        return hints;
    };
    if matches!(diagnosis.kind, Kind::CommandLine | Kind::DidNotStart) {
        return Vec::new();
    }
    if let Some(first) = hints.first()
        && let (remedy, Some(left)) = remedy_of(first)
        && remedy == diagnosis.remedy
    {
        match left.trim() {
            "" => {
                hints.remove(0);
            }
            left => hints[0] = capitalized(left),
        }
    }
    hints
}

/// The most characters of a hint's first clause the first line carries.
const REMEDY_AT_MOST: usize = 200;

/// The first hint that applies, cut to its first clause: the rest is in the hint itself.
fn first_hint(outcome: &Outcome) -> Option<String> {
    let hint = super::explain::every_hint(outcome).into_iter().next()?;
    Some(remedy_of(&hint).0)
}

/// A hint as a first line's remedy: its first clause (to `; `, or, when that is too long,
/// to the end of its first sentence), with what the first line leaves for the hint line
/// (`None`: the whole hint is said, `Some("")`: nothing is left). A clause too long even
/// so is cut at a word, and the hint line goes on from there (`…` at both ends of the
/// cut): each word is said once.
pub(crate) fn remedy_of(hint: &str) -> (String, Option<String>) {
    let (clause, rest) = hint.split_once("; ").unwrap_or((hint, ""));
    let (clause, rest) = match sentence_end(clause) {
        Some(end) if clause.chars().count() > REMEDY_AT_MOST => {
            (&clause[..end], hint[end + 1..].trim_start())
        }
        _ => (clause, rest),
    };
    let clause = clause.trim_end_matches('.');
    // Too long still: the first line takes the words that fit, the hint the rest (the
    // clause is the start of `hint`, so the rest of it is `hint` from the cut on).
    let (clause, left) = match cut_at_word(clause, REMEDY_AT_MOST) {
        Some(cut) => (
            format!("{}…", &clause[..cut]),
            format!("…{}", hint[cut..].trim_start()),
        ),
        None => (clause.to_owned(), rest.to_owned()),
    };
    let mut chars = clause.chars();
    let Some(first) = chars.next() else {
        return (String::new(), None);
    };
    // After a colon, in lower case, but for a word in capitals (`AUTH PLAIN`, `HTTP`).
    let acronym = chars.clone().next().is_some_and(char::is_uppercase);
    let first = if acronym {
        first.to_string()
    } else {
        first.to_lowercase().to_string()
    };
    // One line, whatever the hint's own lines.
    let remedy = format!("{first}{}", chars.as_str());
    let remedy = remedy.split_whitespace().collect::<Vec<_>>().join(" ");
    (remedy, Some(left))
}

/// Where to cut `text` so that at most `longest` characters are kept, at the last space
/// before them (in the middle of a word only when none is): `None` when it fits.
fn cut_at_word(text: &str, longest: usize) -> Option<usize> {
    let limit = text.char_indices().nth(longest)?.0;
    Some(
        text[..limit]
            .rfind(' ')
            .filter(|at| *at > 0)
            .unwrap_or(limit),
    )
}

/// Where the first sentence of `text` ends: its `.` followed by a space and a capital.
fn sentence_end(text: &str) -> Option<usize> {
    text.match_indices(". ").map(|(at, _)| at).find(|&at| {
        text[at + 2..]
            .chars()
            .next()
            .is_some_and(char::is_uppercase)
    })
}

/// What a step saw without the harness's asides (what every program was blocked in, the
/// run's caveats), which the details give.
fn without_asides(seen: &str) -> &str {
    [" (every program still running", " (note: "]
        .iter()
        .filter_map(|aside| seen.find(aside))
        .min()
        .map_or(seen, |at| &seen[..at])
}

/// `text` on one line, cut to `longest` characters.
pub(crate) fn shortened(text: &str, longest: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(longest) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

pub(crate) fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The closing summary of one submission's failures, grouped by cause (pytest's "short test
/// summary info"): a heading per cause, then a line per scenario with its sentence's
/// defect. Empty when nothing failed.
pub fn closing_summary(outcomes: &[Outcome]) -> String {
    use std::fmt::Write;
    let failed: Vec<(&Outcome, Diagnosis)> = outcomes
        .iter()
        .filter(|outcome| outcome.status.is_failure())
        .filter_map(|outcome| Some((outcome, diagnose(outcome)?)))
        .collect();
    if failed.is_empty() {
        return String::new();
    }
    // Causes in the order their first failure came.
    let mut groups: Vec<(&str, Vec<&(&Outcome, Diagnosis)>)> = Vec::new();
    for entry in &failed {
        match groups
            .iter_mut()
            .find(|(group, _)| *group == entry.1.group.as_str())
        {
            Some((_, members)) => members.push(entry),
            None => groups.push((entry.1.group.as_str(), vec![entry])),
        }
    }
    let mut text = String::new();
    let causes = match groups.len() {
        1 => "1 cause".to_owned(),
        count => format!("{count} causes"),
    };
    let _ = writeln!(text, "short summary: {} failed, {causes}", failed.len());
    for (group, members) in &groups {
        let scenarios = match members.len() {
            1 => "1 scenario".to_owned(),
            count => format!("{count} scenarios"),
        };
        let _ = writeln!(text, "{} ({scenarios})", capitalized(group));
        let remedies: std::collections::BTreeSet<&str> = members
            .iter()
            .map(|(_, diagnosis)| diagnosis.remedy.as_str())
            .collect();
        // One remedy for them all: said once, under the heading.
        if let [remedy] = remedies.into_iter().collect::<Vec<_>>()[..]
            && !remedy.is_empty()
        {
            let _ = writeln!(text, "  what to do: {remedy}");
            for (outcome, diagnosis) in members {
                let _ = writeln!(
                    text,
                    "  {} {}: {}",
                    outcome.status.label(),
                    outcome.id,
                    diagnosis.defect
                );
            }
        } else {
            for (outcome, diagnosis) in members {
                let _ = writeln!(
                    text,
                    "  {} {}: {}",
                    outcome.status.label(),
                    outcome.id,
                    diagnosis.sentence()
                );
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remedy_too_long_for_the_first_line_goes_on_in_its_hint_not_again() {
        let long = format!(
            "Read {} until it returns b''. Then close.",
            "and read ".repeat(30)
        );
        let (remedy, left) = remedy_of(&long);
        let left = left.unwrap();
        assert!(remedy.ends_with('…') && remedy.chars().count() <= REMEDY_AT_MOST + 1);
        assert!(left.starts_with('…'), "{left}");
        // Each word once: the two halves make the hint again.
        let joined = format!(
            "{} {}",
            remedy.trim_end_matches('…'),
            left.trim_start_matches('…')
        );
        assert_eq!(joined.to_lowercase(), long.to_lowercase());
        // A short one is whole in the first line, the rest of its hint after `; `.
        let (remedy, left) = remedy_of("Loop recv until b''; a single recv may return part.");
        assert_eq!(remedy, "loop recv until b''");
        assert_eq!(left.as_deref(), Some("a single recv may return part."));
    }

    #[test]
    fn a_python_2_module_is_named_with_the_one_to_import_instead() {
        let remedy = start_remedy(
            "ModuleNotFoundError: No module named 'SimpleXMLRPCServer'",
            "an import failed",
        );
        assert!(
            remedy.starts_with("`SimpleXMLRPCServer` is Python 2's"),
            "{remedy}"
        );
        assert!(remedy.contains("import xmlrpc.server instead"), "{remedy}");
        let remedy = start_remedy(
            "ModuleNotFoundError: No module named 'email.MIMEText'",
            "an import failed",
        );
        assert!(remedy.contains("email.mime.text"), "{remedy}");
        // A module Python 3 has under no other name is a library to install.
        let remedy = start_remedy(
            "ModuleNotFoundError: No module named 'paramiko'",
            "an import failed",
        );
        assert!(remedy.contains("requirements"), "{remedy}");
    }

    #[test]
    fn a_program_stopped_with_its_stdout_already_wrong_is_told_what_is_wrong() {
        use run_record::outcome::{ALREADY_WRONG, Failure, LATER_STEP_EXPECTS};
        let mut outcome = Outcome::blank("udp-pinger/01-lost-pings-time-out");
        outcome.status = Status::Fail;
        outcome.failure = Some(Failure {
            step: 3,
            action: "check client's exit status".into(),
            expected: "client to exit with status 0 within 13000 ms".into(),
            seen: format!(
                "client was still running after 13000 ms (and 4 ms more){ALREADY_WRONG}its first ping was numbered 0 (`Ping 0 <time>`); it had printed 13 lines for 10 pings (one a ping){LATER_STEP_EXPECTS}client's stdout to report 10 pings (and a summary))"
            ),
            ..Failure::default()
        });
        outcome.programs = vec![ProgramReport {
            name: "client".into(),
            ..ProgramReport::default()
        }];
        let diagnosis = diagnose(&outcome).unwrap();
        assert_eq!(diagnosis.blamed.as_deref(), Some("client"));
        assert_eq!(
            diagnosis.sentence(),
            "Your client was still running after 13000 ms, and by then its stdout was already wrong: its first ping was numbered 0 (`Ping 0 <time>`); it had printed 13 lines for 10 pings (one a ping): fix what it printed, and have it end by itself once its work is done."
        );
    }
}
