//! The byte-stream judges: a program's captured output compared with what it should be
//! (exactly, as whole messages in any order, or containing a needle), read from the
//! capture file in windows so that a 100 MB output costs no 100 MB of memory.

use crate::judge::diff::byte_window_diff;
use crate::outcome::Status;
use crate::outcome::{StepFailure, StepResult, harness_trouble};
use crate::payload::{Concatenation, Payload};
use crate::world::capture::Capture;

/// The state of an output check at one moment.
pub(crate) enum Evaluation {
    /// The expectation holds; `settle` asks to see it hold a moment longer.
    Holds { settle: bool },
    /// Nothing wrong so far; holds if nothing changes until the program ends or the deadline.
    SoFarSoGood,
    /// Not yet: this is what is expected and what is there so far.
    Pending { expected: String, seen: String },
}

/// Where `needle` first appears in `capture`, read in overlapping windows.
pub(crate) fn find_in_capture(capture: &Capture, needle: &[u8]) -> Option<u64> {
    const WINDOW: usize = 256 * 1024;
    if needle.is_empty() {
        return None;
    }
    let mut buffer = vec![0u8; WINDOW + needle.len()];
    let mut offset = 0u64;
    while offset < capture.len() {
        let filled = capture.read_at(offset, &mut buffer).unwrap_or(0);
        if filled < needle.len() {
            return None;
        }
        if let Some(index) = buffer[..filled]
            .windows(needle.len())
            .position(|window| window == needle)
        {
            return Some(offset + index as u64);
        }
        // The next window starts where a match cut by this one's end would begin.
        offset += (filled - needle.len() + 1) as u64;
    }
    None
}

/// Compares captured output with the expected bytes, from `verified` on.
pub(crate) fn compare_exact(
    capture: &Capture,
    expected: &Concatenation,
    description: &str,
    expected_is_complete: bool,
    verified: &mut u64,
) -> StepResult<Evaluation> {
    let seen_len = capture.len();
    let expected_len = expected.len();
    let mut ours = vec![0u8; 64 * 1024];
    let mut theirs = vec![0u8; 64 * 1024];
    while *verified < seen_len.min(expected_len) {
        let chunk = (seen_len.min(expected_len) - *verified).min(ours.len() as u64) as usize;
        let got = capture
            .read_at(*verified, &mut theirs[..chunk])
            .map_err(|error| harness_trouble(error.to_string()))?;
        let want = expected
            .read_at(*verified, &mut ours[..chunk])
            .map_err(|error| harness_trouble(error.to_string()))?;
        let compared = got.min(want);
        if let Some(index) = (0..compared).find(|index| ours[*index] != theirs[*index]) {
            let offset = *verified + index as u64;
            return Err(mismatch(capture, expected, description, offset, seen_len));
        }
        *verified += compared as u64;
        if compared == 0 {
            break;
        }
    }
    if seen_len > expected_len && expected_is_complete {
        return Err(mismatch(
            capture,
            expected,
            description,
            expected_len,
            seen_len,
        ));
    }
    if seen_len == expected_len && expected_is_complete {
        return Ok(Evaluation::Holds { settle: true });
    }
    Ok(Evaluation::Pending {
        expected: description.to_owned(),
        seen: format!("{seen_len} of {expected_len} bytes (all correct so far)"),
    })
}

fn mismatch(
    capture: &Capture,
    expected: &Concatenation,
    description: &str,
    offset: u64,
    seen_len: u64,
) -> StepFailure {
    let window_start = crate::judge::diff::window_start(offset);
    let mut want = vec![0u8; 64];
    let mut got = vec![0u8; 64];
    let want_len = expected.read_at(window_start, &mut want).unwrap_or(0);
    let got_len = capture.read_at(window_start, &mut got).unwrap_or(0);
    want.truncate(want_len);
    got.truncate(got_len);
    let seen = if offset == expected.len() {
        format!(
            "{seen_len} bytes: the expected {} and then {} more",
            expected.len(),
            seen_len - offset
        )
    } else {
        format!("{seen_len} bytes, differing from byte {offset} on")
    };
    StepFailure {
        status: Status::Fail,
        expected: description.to_owned(),
        seen,
        diff: Some(byte_window_diff(
            offset,
            expected.len(),
            seen_len,
            window_start,
            &want,
            &got,
        )),
    }
}

/// Checks that the output is the given messages back to back, in some order.
pub(crate) fn check_any_order(
    capture: &Capture,
    parts: &[Payload],
    names: &[String],
    description: &str,
) -> StepResult {
    let mut output = vec![0u8; capture.len() as usize];
    let filled = capture
        .read_at(0, &mut output)
        .map_err(|error| harness_trouble(error.to_string()))?;
    output.truncate(filled);
    let messages: Vec<Vec<u8>> = parts.iter().map(Payload::bytes).collect();
    let mut used = vec![false; messages.len()];
    let mut order = Vec::new();
    let mut deepest = (0usize, Vec::new());
    if place_messages(&output, 0, &messages, &mut used, &mut order, &mut deepest) {
        return Ok(());
    }
    let (offset, placed_indices) = deepest;
    let placed: Vec<&str> = placed_indices
        .iter()
        .map(|index: &usize| names[*index].as_str())
        .collect();
    let start = crate::judge::diff::window_start(offset as u64) as usize;
    let window = &output[start..(start + 64).min(output.len())];
    let seen = if output.is_empty() {
        "nothing: the output is empty".to_owned()
    } else if offset >= output.len() {
        // Every byte is part of a whole message: the others never came.
        let missing: Vec<&str> = names
            .iter()
            .enumerate()
            .filter(|(index, _)| !placed_indices.contains(index))
            .map(|(_, name)| name.as_str())
            .collect();
        format!(
            "{} whole message(s) ({}), and then the output ends: {} never came",
            placed.len(),
            placed.join(", "),
            missing.join(", ")
        )
    } else {
        format!(
            "{} whole message(s) ({}) and then, at byte {offset}, bytes that start none of the others: the messages are cut or interleaved",
            placed.len(),
            if placed.is_empty() {
                "none".to_string()
            } else {
                placed.join(", ")
            }
        )
    };
    Err(StepFailure {
        status: Status::Fail,
        expected: description.to_owned(),
        seen,
        diff: (!window.is_empty()).then(|| crate::judge::diff::hex_dump(start as u64, window)),
    })
}

/// Backtracking: can `output[offset..]` be cut into the unused messages?
fn place_messages(
    output: &[u8],
    offset: usize,
    messages: &[Vec<u8>],
    used: &mut [bool],
    order: &mut Vec<usize>,
    deepest: &mut (usize, Vec<usize>),
) -> bool {
    if offset >= deepest.0 {
        *deepest = (offset, order.clone());
    }
    if used.iter().all(|used| *used) {
        return offset == output.len();
    }
    for index in 0..messages.len() {
        if !used[index] && output[offset..].starts_with(&messages[index]) {
            used[index] = true;
            order.push(index);
            if place_messages(
                output,
                offset + messages[index].len(),
                messages,
                used,
                order,
                deepest,
            ) {
                return true;
            }
            order.pop();
            used[index] = false;
        }
    }
    false
}

#[cfg(test)]
mod any_order_tests {
    use super::*;

    fn judged(output: &[u8]) -> String {
        let capture = Capture::memory(1 << 20);
        capture.append(output).unwrap();
        let parts: Vec<Payload> = ["alpha\n", "beta\n", "gamma\n"]
            .iter()
            .map(|text| Payload::Bytes(text.as_bytes().into()))
            .collect();
        let names: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|name| name.to_string())
            .collect();
        match check_any_order(&capture, &parts, &names, "the three messages") {
            Ok(()) => "pass".into(),
            Err(failure) => failure.seen,
        }
    }

    #[test]
    fn messages_in_any_order_pass() {
        assert_eq!(judged(b"gamma\nalpha\nbeta\n"), "pass");
    }

    #[test]
    fn an_empty_output_is_said_to_be_empty() {
        assert_eq!(judged(b""), "nothing: the output is empty");
    }

    #[test]
    fn whole_messages_and_then_the_end_name_those_that_never_came() {
        assert_eq!(
            judged(b"beta\n"),
            "1 whole message(s) (b), and then the output ends: a, c never came"
        );
    }

    #[test]
    fn bytes_that_start_no_message_are_cut_or_interleaved() {
        assert!(
            judged(b"alpha\nbegamma\n").starts_with(
                "1 whole message(s) (a) and then, at byte 6, bytes that start none of the others"
            ),
            "{}",
            judged(b"alpha\nbegamma\n")
        );
    }
}
