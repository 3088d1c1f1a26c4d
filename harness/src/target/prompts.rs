//! `prompts = ["Enter your username: ", "Password: "]`: what a program writes to stdout
//! before it reads each line its manifest's `stdin` maps (`input("Enter your username:
//! ")`). A prompt is not output: the harness takes each off the program's stdout, once, in
//! the order named, before anything judges it (`crate::world::prompts`), so an exact check
//! of stdout sees only what the program printed as its result.
//!
//! The manifest names them, rather than the harness guessing: a program's stdin is written
//! whole when it starts, so over a pipe the harness cannot see when each line is read, and
//! text without a line end may as well be output. Named, they are taken off the same way in
//! every run. There are at most as many as the lines `stdin` maps: a prompt asks for one
//! of them, and nothing else a program prints can be named away.

use super::RoleProgram;

/// What `prompts` must be, for errors.
pub const SHAPE: &str = "must be a list of the texts the program writes before it reads each line of its `stdin`, as it writes them (`[\"Enter your username: \", \"Password: \"]`), none empty";

/// What `line_prompt` must be, for errors.
pub const LINE_SHAPE: &str = "must be the text the program writes before it reads each line of its stdin, as it writes it (`\"> \"` for a loop of `input(\"> \")`), not empty";

/// The prompts to take off a program's stdout, in order: those `prompts` names (one per
/// mapped line), then `line_prompt` once before each line of its whole stdin (`lines` of
/// them) and once more before the end, which a loop that reads until there is no more asks
/// for too. (With both, the mapped lines' count is taken off the repeated one: a prompt the
/// program never wrote takes nothing off.)
pub fn in_order(program: &RoleProgram, lines: usize) -> Vec<String> {
    let mut prompts = program.prompts.clone();
    if let Some(prompt) = &program.line_prompt {
        let asked = (lines + 1).saturating_sub(program.prompts.len());
        prompts.extend(std::iter::repeat_n(prompt.clone(), asked));
    }
    prompts
}

/// The lines of `bytes` as a program reading lines meets them: those a line end ends, and
/// a last one without.
pub fn lines_in(bytes: &[u8]) -> usize {
    bytes.split_inclusive(|byte| *byte == b'\n').count()
}

/// The lines `stdin` maps: those it ends, and a last one without its line end.
fn mapped_lines(stdin: &str) -> usize {
    lines_in(stdin.as_bytes())
}

/// Why `program`'s prompts cannot be, if they cannot: more of them than the lines its
/// `stdin` maps (none, without a `stdin`).
pub fn refusal(program: &RoleProgram) -> Option<String> {
    if program.prompts.is_empty() {
        return None;
    }
    let lines = program.stdin_prefix.as_deref().map_or(0, mapped_lines);
    (program.prompts.len() > lines).then(|| {
        format!(
            "`prompts` names {} prompts, but its `stdin` maps {lines} line{}: a prompt is what the program writes before it reads a line of `stdin`, one per line at most",
            program.prompts.len(),
            if lines == 1 { "" } else { "s" }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_no_more_prompts_than_mapped_lines() {
        let mut program = RoleProgram {
            prompts: vec!["User: ".into(), "Password: ".into()],
            stdin_prefix: Some("{--user}\n{--password}\n".into()),
            ..RoleProgram::default()
        };
        assert_eq!(refusal(&program), None);
        program.stdin_prefix = Some("{--user}\n".into());
        let reason = refusal(&program).unwrap();
        assert!(
            reason.contains("names 2 prompts, but its `stdin` maps 1 line:"),
            "{reason}"
        );
        program.stdin_prefix = None;
        assert!(refusal(&program).unwrap().contains("maps 0 lines"));
        assert_eq!(mapped_lines("{1}"), 1);
    }

    #[test]
    fn a_line_prompt_comes_before_each_line_and_the_end_after_the_named_ones() {
        let mut program = RoleProgram {
            line_prompt: Some("> ".into()),
            ..RoleProgram::default()
        };
        assert_eq!(lines_in(b"1 + 2\n3 * 4\n"), 2);
        assert_eq!(lines_in(b"1 + 2\n3 * 4"), 2);
        assert_eq!(lines_in(b""), 0);
        assert_eq!(in_order(&program, 2), ["> ", "> ", "> "]);
        program.prompts = vec!["User: ".into()];
        assert_eq!(in_order(&program, 3), ["User: ", "> ", "> ", "> "]);
        program.line_prompt = None;
        assert_eq!(in_order(&program, 3), ["User: "]);
    }
}
