//! A program's prompts taken off its stdout before anything judges it.
//!
//! A program that asks for what its manifest's `stdin` maps (`input("Enter your username:
//! ")`) writes the prompt to stdout before each read; it is not output, and an exact check
//! of stdout must not see it. Over a pipe the harness cannot see when the program reads
//! (its stdin is written whole at the start), so it cannot tell a prompt by when it comes:
//! the manifest names the prompts instead (`prompts = ["Enter your username: "]`), and each
//! is taken off the stream once, in the order named, where it first appears after the one
//! before. That is the same for every run of the same program, however the pipe cuts its
//! output: the bytes that could be the start of the next prompt are held back until they
//! are, or are not, or the stream ends.

use std::collections::VecDeque;
use std::io::{self, Read};

/// A program's stdout with its named prompts taken off (see the module's documentation).
pub struct WithoutPrompts<R> {
    inner: R,
    /// The prompts still to come, in order.
    prompts: VecDeque<Vec<u8>>,
    /// Read, not yet passed on: it may hold the next prompt, or its start.
    held: Vec<u8>,
    /// Passed on, not yet read by the caller.
    ready: Vec<u8>,
    ended: bool,
}

impl<R: Read> WithoutPrompts<R> {
    /// `inner` without `prompts` (empty ones are ignored).
    pub fn new(inner: R, prompts: &[String]) -> WithoutPrompts<R> {
        WithoutPrompts {
            inner,
            prompts: prompts
                .iter()
                .filter(|prompt| !prompt.is_empty())
                .map(|prompt| prompt.as_bytes().to_vec())
                .collect(),
            held: Vec::new(),
            ready: Vec::new(),
            ended: false,
        }
    }

    /// Moves what is certainly output from `held` to `ready`, taking off each prompt found.
    fn sort_out(&mut self) {
        while let Some(prompt) = self.prompts.front() {
            if let Some(at) = find(&self.held, prompt) {
                let end = at + prompt.len();
                self.ready.extend_from_slice(&self.held[..at]);
                self.held.drain(..end);
                self.prompts.pop_front();
                continue;
            }
            if self.ended {
                break;
            }
            // Keep what could still become the prompt with what comes next.
            let keep = (1..prompt.len().min(self.held.len() + 1))
                .rev()
                .find(|length| self.held.ends_with(&prompt[..*length]))
                .unwrap_or(0);
            let release = self.held.len() - keep;
            self.ready.extend(self.held.drain(..release));
            return;
        }
        self.ready.append(&mut self.held);
    }
}

/// Where `needle` first appears in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

impl<R: Read> Read for WithoutPrompts<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.ready.is_empty() || self.ended || buffer.is_empty() {
                let count = buffer.len().min(self.ready.len());
                buffer[..count].copy_from_slice(&self.ready[..count]);
                self.ready.drain(..count);
                return Ok(count);
            }
            let mut chunk = vec![0; buffer.len().max(4096)];
            match self.inner.read(&mut chunk) {
                Ok(0) => self.ended = true,
                Ok(count) => self.held.extend_from_slice(&chunk[..count]),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    // What was held is output after all; the error comes on the next read.
                    self.ended = true;
                    self.sort_out();
                    if self.ready.is_empty() {
                        return Err(error);
                    }
                    continue;
                }
            }
            self.sort_out();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `pieces`, read one by one, become without `prompts`.
    fn filtered(pieces: &[&str], prompts: &[&str]) -> String {
        struct Pieces(VecDeque<Vec<u8>>);
        impl Read for Pieces {
            fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
                let Some(piece) = self.0.pop_front() else {
                    return Ok(0);
                };
                buffer[..piece.len()].copy_from_slice(&piece);
                Ok(piece.len())
            }
        }
        let source = Pieces(
            pieces
                .iter()
                .map(|piece| piece.as_bytes().to_vec())
                .collect(),
        );
        let prompts: Vec<String> = prompts.iter().map(|prompt| (*prompt).to_owned()).collect();
        let mut out = String::new();
        WithoutPrompts::new(source, &prompts)
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn each_prompt_is_taken_off_once_in_order_however_the_output_is_cut() {
        let prompts = ["Enter your username: ", "Password: "];
        let whole = "Enter your username: Password: 5 primary.example.com\n";
        assert_eq!(filtered(&[whole], &prompts), "5 primary.example.com\n");
        // Cut at every byte: the same.
        let bytes: Vec<String> = whole.chars().map(String::from).collect();
        let pieces: Vec<&str> = bytes.iter().map(String::as_str).collect();
        assert_eq!(filtered(&pieces, &prompts), "5 primary.example.com\n");
        // Output between prompts stays; a prompt's text after all of them is output.
        assert_eq!(
            filtered(
                &[
                    "Welcome\nEnter your ",
                    "username: hi alice\nPassword: Password: "
                ],
                &prompts
            ),
            "Welcome\nhi alice\nPassword: "
        );
    }

    #[test]
    fn output_that_only_looks_like_a_prompt_begins_is_kept() {
        assert_eq!(filtered(&["Pass", "word"], &["Password: "]), "Password");
        assert_eq!(filtered(&["Pa"], &["Password: "]), "Pa");
        // The same prompt twice, for two reads.
        assert_eq!(filtered(&["> > 42\n> "], &["> ", "> "]), "42\n> ");
        // A program that printed no prompt: nothing is taken.
        assert_eq!(filtered(&["42\n"], &["Address: "]), "42\n");
    }
}
