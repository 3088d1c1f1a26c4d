//! `after_label`: a client's stdout is its reply, with at most a label before it (SPEC
//! upper/6).
//!
//! The handout's clients print `From Server: ` before the reply, and their `input()` prompt,
//! which has no newline, lands on the same line: text before the reply on its line is
//! accepted. Other lines are not (stdout is data), and neither is anything after the reply
//! but line ends (the reply's own newline, and `print`'s).
//!
//! ```toml
//! [[step]]
//! expect_stdout = "client"
//! after_label = { text = "HELLO FROM THE HARNESS\n" }
//! ```

/// Whether `output` (the first bytes of what was printed, `seen_len` in all) is `wanted`
/// with at most a label before it on its line (no line break in the label) and nothing
/// after it but whitespace; trailing whitespace of `wanted` is not required either (a
/// reply's own newline, or `print`'s). `Err` says what is there instead.
pub fn judge(output: &[u8], wanted: &[u8], seen_len: u64) -> Result<(), String> {
    fn trimmed(bytes: &[u8]) -> &[u8] {
        let end = bytes
            .iter()
            .rposition(|byte| !byte.is_ascii_whitespace())
            .map_or(0, |last| last + 1);
        &bytes[..end]
    }
    if (output.len() as u64) < seen_len {
        return Err(format!(
            "{seen_len} bytes, far more than the expected {} and a label",
            wanted.len()
        ));
    }
    let (output, wanted) = (trimmed(output), trimmed(wanted));
    let start = if wanted.is_empty() {
        Some(output.len())
    } else {
        let probe = &wanted[..wanted.len().min(64)];
        output
            .windows(probe.len())
            .position(|window| window == probe)
            // Not there whole: where on the first line (a label has no line break) the
            // reply starts that is printed furthest, cut or changed after that.
            .or_else(|| {
                let first_line = output
                    .iter()
                    .position(|byte| *byte == b'\n')
                    .unwrap_or(output.len());
                let common = |start: usize| {
                    output[start..]
                        .iter()
                        .zip(wanted)
                        .take_while(|(seen, want)| seen == want)
                        .count()
                };
                (0..=first_line)
                    .map(|start| (common(start), start))
                    .filter(|(common, _)| *common > 0)
                    .min_by_key(|(common, start)| (std::cmp::Reverse(*common), *start))
                    .map(|(_, start)| start)
            })
    };
    let Some(start) = start else {
        return Err(format!(
            "{seen_len} bytes, and the expected text is not among them: {}",
            crate::judge::diff::excerpt(&output[..output.len().min(300)])
        ));
    };
    let label = &output[..start];
    if let Some(newline) = label.iter().rposition(|byte| *byte == b'\n') {
        return Err(format!(
            "other lines before it: {}",
            crate::judge::diff::excerpt(&label[..(newline + 1).min(300)])
        ));
    }
    let printed = &output[start..];
    let same = printed
        .iter()
        .zip(wanted)
        .take_while(|(seen, want)| seen == want)
        .count();
    if same == wanted.len() && printed.len() == wanted.len() {
        return Ok(());
    }
    Err(if same == wanted.len() {
        format!(
            "the expected text, then more: {}",
            crate::judge::diff::excerpt(&printed[same..(same + 200).min(printed.len())])
        )
    } else if same == printed.len() {
        format!(
            "only the first {same} of its {} bytes{}",
            wanted.len(),
            if label.is_empty() {
                String::new()
            } else {
                format!(" (after the label {})", crate::judge::diff::excerpt(label))
            }
        )
    } else {
        format!(
            "the expected text up to byte {same}, then {} where {} was expected",
            crate::judge::diff::excerpt(&printed[same..(same + 24).min(printed.len())]),
            crate::judge::diff::excerpt(&wanted[same..(same + 24).min(wanted.len())])
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(output: &str, wanted: &str) -> Result<(), String> {
        judge(output.as_bytes(), wanted.as_bytes(), output.len() as u64)
    }

    #[test]
    fn the_reply_alone_or_after_a_label_holds() {
        for output in [
            "HELLO\n",
            "HELLO",
            "HELLO\n\n",
            "From Server: HELLO\n",
            "Input lowercase sentence:From Server: HELLO\r\n",
        ] {
            assert_eq!(judged(output, "HELLO\n"), Ok(()), "{output:?}");
        }
    }

    #[test]
    fn other_lines_and_cut_replies_fail() {
        let cases = [
            ("HELLO WORLD\nConnection closed.\n", "then more"),
            ("Connecting...\nHELLO WORLD\n", "other lines before it"),
            ("HEL", "only the first 3"),
            ("GOODBYE\n", "not among them"),
            ("HELLO WOR", "only the first 9"),
            ("HELLO WORLF\n", "then \"F\" where \"D\" was expected"),
        ];
        for (output, why) in cases {
            let seen = judged(output, "HELLO WORLD\n").unwrap_err();
            assert!(seen.contains(why), "{output:?}: {seen}");
        }
    }
}
