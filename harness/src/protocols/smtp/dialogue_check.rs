//! `smtp-dialogue`: the harness as an SMTP client of a submitted `smtp-server`, one
//! command at a time, checking every reply code (SPEC smtpd/1).
//!
//! It connects, expects the `220` greeting, then sends each command of `exchange` and
//! reads its reply: one line `250 ok`, or several (`250-...` continuation lines, then
//! `250 ...`, RFC 5321 §4.2.1). A reply's code must be the one given, or one of a list.
//! A command written with line breaks (a message's data) is sent with CRLF. `send`
//! chooses how the bytes go:
//!
//! - `"whole"`: each command in one write;
//! - `"bytes"`: each command one byte per TCP segment (a server must read up to the
//!   line's end, not take one `recv` for one command);
//! - `"pipelined"`: the commands up to each `DATA`, and the data with everything after it,
//!   in one write (RFC 2920 pipelining: a server that reads a `recv` as one command
//!   loses the rest).
//!
//! ```toml
//! [[step]]
//! check = "smtp-dialogue"
//! params = { server = "server", send = "bytes", exchange = [
//!     ["EHLO harness", 250], ["MAIL FROM:<a@example.com>", 250], ["QUIT", 221],
//! ] }
//! ```

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWriteExt};

use crate::protocols::checks::{CheckContext, CheckKind};

use crate::outcome::StepFailure;
use crate::peers::next_line;
use crate::transcript::Direction;
use crate::wire::{Flow, FlowEnd, Protocol, WireAct};
use crate::world::sockets::PeerReader;

/// The check's name in scenario files.
pub(super) const NAME: &str = "smtp-dialogue";

/// This check, for the pack's `checks`.
pub(crate) const KIND: CheckKind = CheckKind {
    name: NAME,
    validate: |params, _| {
        // It talks to a server the scenario started.
        Params::parse(params)?;
        Ok(Vec::new())
    },
    real_only: None,
    schema: |generator| generator.subschema_for::<SmtpDialogueParams>(),
    run: |context, params| Box::pin(run(context, params)),
};

/// How long one reply may take.
const REPLY_WITHIN: Duration = Duration::from_secs(5);
/// Time between two bytes sent one by one (lets each leave as its own segment).
const BYTE_GAP: Duration = Duration::from_millis(1);
/// The longest reply read.
const MAX_REPLY: usize = 64 * 1024;
/// The connection's name in the transcript.
const LABEL: &str = "smtp-client";

/// How the commands are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
enum Sending {
    /// Each command in one write.
    #[default]
    Whole,
    /// Each command one byte per TCP segment.
    Bytes,
    /// The commands up to each `DATA`, and the data with everything after it, in one
    /// write.
    Pipelined,
}

/// `params = { server = "server", send = "bytes", exchange = [["EHLO harness", 250], ...] }`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct SmtpDialogueParams {
    /// The started mail server talked to (default `server`).
    server: Option<String>,
    /// How the commands are written (default `whole`).
    send: Option<Sending>,
    /// Each command (without its CRLF) and the reply code accepted, or a list of them.
    exchange: Option<Vec<(String, ReplyCodes)>>,
}

/// A reply code, or a list of acceptable ones.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
enum ReplyCodes {
    One(i64),
    Many(Vec<i64>),
}

/// Parameters.
#[derive(Debug, Clone)]
pub(super) struct Params {
    server: String,
    sending: Sending,
    /// Each command (without its CRLF) and the reply codes accepted.
    exchange: Vec<(String, Vec<u16>)>,
}

impl Params {
    /// Reads and checks `params`.
    pub(super) fn parse(params: &toml::Table) -> Result<Params, String> {
        let raw: SmtpDialogueParams = crate::protocols::checks::params_of(NAME, params)?;
        let server = crate::protocols::checks::server_or_default(raw.server);
        let sending = raw.send.unwrap_or_default();
        let shape = "`exchange` is a list of [command, code] or [command, [codes]]";
        let exchange =
            raw.exchange
                .ok_or(shape)?
                .into_iter()
                .map(|(command, codes)| {
                    let codes = match codes {
                        ReplyCodes::One(code) => vec![reply_code(code)?],
                        ReplyCodes::Many(codes) => codes
                            .into_iter()
                            .map(reply_code)
                            .collect::<Result<_, String>>()?,
                    };
                    Ok((command, codes))
                })
                .collect::<Result<Vec<_>, String>>()?;
        if exchange.is_empty() {
            return Err(shape.into());
        }
        Ok(Params {
            server,
            sending,
            exchange,
        })
    }
}

fn reply_code(value: i64) -> Result<u16, String> {
    u16::try_from(value)
        .ok()
        .filter(|code| (200..=599).contains(code))
        .ok_or_else(|| "reply codes are integers from 200 to 599".into())
}

/// The bytes of a command: its lines ending in CRLF.
fn wire(command: &str) -> Vec<u8> {
    let mut bytes = command
        .replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes();
    bytes.extend_from_slice(b"\r\n");
    bytes
}

pub(crate) async fn run(
    run: &mut dyn CheckContext,
    params: &toml::Table,
) -> Result<(), StepFailure> {
    let params =
        Params::parse(params).map_err(|error| StepFailure::fail("valid parameters", error))?;
    let (host, port) = run.endpoint_address(&params.server)?;
    let nodelay = params.sending == Sending::Bytes;
    let connection = run
        .peer_net()
        .connect(&host, port, nodelay)
        .await
        .map_err(|error| {
            StepFailure::fail(
                format!("{} to accept an SMTP client on port {port}", params.server),
                format!("connecting failed: {error}"),
            )
        })?;
    let transcript = run.transcript();
    transcript.name_program(LABEL, &params.server);
    let flow = Flow::opened_by_harness(
        LABEL,
        Protocol::Tcp,
        FlowEnd::harness(LABEL, connection.local),
        transcript.program_end(LABEL, connection.remote),
    );
    transcript.opened(Direction::ToProgram, "connected", flow);
    let mut reader = connection.reader;
    let mut writer = connection.writer;
    let mut pending = Vec::new();

    let expect = async |run: &mut dyn CheckContext,
                        reader: &mut PeerReader,
                        pending: &mut Vec<u8>,
                        after: &str,
                        codes: &[u16]|
           -> Result<(), StepFailure> {
        let wanted = |codes: &[u16]| {
            let codes: Vec<String> = codes.iter().map(u16::to_string).collect();
            format!("a {} reply {after}", codes.join(" or "))
        };
        // At most REPLY_WITHIN, and no longer once the server cannot send one. The reply
        // first: one may already be in `pending`, which no look at the programs sees.
        let reply = tokio::select! {
            biased;
            reply = read_reply(reader, pending, &transcript) => reply,
            late = crate::waiting::wait_in_vain(run, REPLY_WITHIN) => {
                return Err(StepFailure::fail(
                    wanted(codes),
                    format!("no complete reply {late}"),
                ));
            }
        }
        .map_err(|seen| StepFailure::fail(wanted(codes), seen))?;
        let code: u16 = reply[..3].parse().unwrap_or(0);
        if codes.contains(&code) {
            Ok(())
        } else {
            Err(StepFailure::fail(
                wanted(codes),
                format!("`{}`", reply.trim_end()),
            ))
        }
    };

    expect(run, &mut reader, &mut pending, "(the greeting)", &[220]).await?;
    // The exchange in groups written at once: one command each, unless pipelined.
    let mut start = 0;
    while start < params.exchange.len() {
        let end = match params.sending {
            Sending::Pipelined => params.exchange[start..]
                .iter()
                .position(|(_, codes)| codes.contains(&354))
                .map_or(params.exchange.len(), |at| start + at + 1),
            _ => start + 1,
        };
        let group = &params.exchange[start..end];
        let bytes: Vec<u8> = group
            .iter()
            .flat_map(|(command, _)| wire(command))
            .collect();
        let written = match params.sending {
            Sending::Bytes => {
                let mut result = Ok(());
                for byte in &bytes {
                    result = writer.write_all(std::slice::from_ref(byte)).await;
                    if result.is_err() {
                        break;
                    }
                    tokio::time::sleep(BYTE_GAP).await;
                }
                result
            }
            _ => writer.write_all(&bytes).await,
        };
        if let Err(error) = written {
            return Err(StepFailure::fail(
                format!("{} to read `{}`", params.server, first_line(&group[0].0)),
                format!("sending failed: {error}"),
            ));
        }
        let pieces = if params.sending == Sending::Bytes {
            bytes.len()
        } else {
            1
        };
        transcript.data(LABEL, Direction::ToProgram, &bytes);
        if pieces > 1 {
            transcript.event(
                LABEL,
                Direction::ToProgram,
                format!("(sent in {pieces} one-byte segments)"),
            );
        }
        for (command, codes) in group {
            let after = format!("to `{}`", first_line(command));
            expect(run, &mut reader, &mut pending, &after, codes).await?;
        }
        start = end;
    }
    if writer.shutdown().await.is_ok() {
        // The report ends with the last reply; the capture with the harness's FIN.
        transcript.on_wire(LABEL, None, Direction::ToProgram, WireAct::Fin);
    }
    Ok(())
}

fn first_line(command: &str) -> String {
    let line = command.lines().next().unwrap_or("");
    if command.lines().count() > 1 {
        format!("{line}…")
    } else {
        line.to_owned()
    }
}

/// Reads one reply (its continuation lines, then its last line); returns its text, or
/// what was seen instead.
async fn read_reply(
    reader: &mut (impl AsyncRead + Unpin),
    pending: &mut Vec<u8>,
    transcript: &crate::transcript::Transcript,
) -> Result<String, String> {
    let mut reply = String::new();
    loop {
        let line = next_line(reader, pending, MAX_REPLY, |piece| {
            if piece.is_empty() {
                transcript.fin(LABEL, Direction::FromProgram, "closed");
            } else {
                transcript.data(LABEL, Direction::FromProgram, piece);
            }
        })
        .await
        .map_err(|error| format!("reading failed: {error}"))?;
        let Some(line) = line else {
            return Err(if reply.is_empty() {
                "the server closed the connection".into()
            } else {
                format!("`{}` and then the connection closed", reply.trim_end())
            });
        };
        let text = String::from_utf8_lossy(&line).into_owned();
        if !line.ends_with(b"\n") {
            return Err(if line.len() >= MAX_REPLY {
                format!("a reply line of over {MAX_REPLY} bytes without its end")
            } else {
                format!("`{}` and then the connection closed", text.trim_end())
            });
        }
        reply += &text;
        let bytes = text.as_bytes();
        let well_formed = bytes.len() >= 4 && bytes[..3].iter().all(u8::is_ascii_digit);
        if !well_formed {
            return Err(format!(
                "`{}`: not an SMTP reply (`250 text`)",
                text.trim_end()
            ));
        }
        // `250-` goes on; `250 ` (or `250` alone) ends the reply.
        if bytes[3] != b'-' {
            return Ok(reply);
        }
        if reply.len() > MAX_REPLY {
            return Err(format!("a reply of over {MAX_REPLY} bytes without its end"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Params, String> {
        Params::parse(&toml::from_str(text).unwrap())
    }

    #[test]
    fn parameters_are_checked() {
        let good = parse(r#"exchange = [["EHLO x", 250], ["FROB", [500, 502]]]"#).unwrap();
        assert_eq!(good.exchange[1].1, vec![500, 502]);
        assert_eq!(good.sending, Sending::Whole);
        for bad in [
            r#"exchange = []"#,
            r#"exchange = [["EHLO x"]]"#,
            r#"exchange = [["EHLO x", 99]]"#,
            r#"exchange = [["EHLO x", 250]]
               send = "slowly""#,
            r#"exchange = [["EHLO x", 250]]
               speed = 3"#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn commands_go_out_with_crlf_on_every_line() {
        assert_eq!(wire("QUIT"), b"QUIT\r\n");
        assert_eq!(
            wire("Subject: a\n\nbody\r\n."),
            b"Subject: a\r\n\r\nbody\r\n.\r\n"
        );
    }

    #[tokio::test]
    async fn multi_line_replies_are_read_whole_and_the_rest_kept() {
        let transcript = crate::transcript::Transcript::new(tokio::time::Instant::now());
        let mut input: &[u8] = b"250-hello\r\n250-SIZE 1\r\n250 OK\r\n221 bye\r\n";
        let mut pending = Vec::new();
        let reply = read_reply(&mut input, &mut pending, &transcript)
            .await
            .unwrap();
        assert_eq!(reply, "250-hello\r\n250-SIZE 1\r\n250 OK\r\n");
        let reply = read_reply(&mut input, &mut pending, &transcript)
            .await
            .unwrap();
        assert_eq!(reply, "221 bye\r\n");
        let mut garbage: &[u8] = b"hello\r\n";
        assert!(
            read_reply(&mut garbage, &mut Vec::new(), &transcript)
                .await
                .is_err()
        );
    }
}
