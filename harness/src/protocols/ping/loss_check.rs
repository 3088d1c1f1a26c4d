//! `ping-loss`: a ping server answers each ping uppercased and drops the fraction it is
//! told to, no more, no less (SPEC ping/3).
//!
//! The harness sends `pings` pings (`Ping <seq> <time>`), paced a little so that no buffer
//! overflows, collects the answers until a second after the last ping (or until every ping
//! has its answer, when nothing more can change the count), and checks every
//! answer is its ping uppercased. The number answered must be within a statistical bound
//! of what `--loss` asks: 4.5 standard deviations of the binomial distribution, so a
//! correct server fails one check about once in 150 000 runs on real sockets
//! (P(|Z| > 4.5) = 6.8e-6), and never in the simulated world, where the seed fixes every
//! draw.
//!
//! One rate alone cannot tell a server that honours `--loss` from one that drops a fixed
//! share of its own: the handout's `random.randint(0, 10) < 4` drops 4 in 11 (36 %), within
//! the band of `--loss 0.3`. So the scenario checks two rates, 0.3 and 0.7, with the server
//! started again in between: their bands (238 to 322 answers of 400, then 78 to 162) are 76
//! answers apart, and a server dropping the same share both times lands in both only if two
//! samples of 400 pings differ by 76 answers or more: at worst (a share of one half) 5.4
//! standard deviations of their difference, below 4e-8. Two checks of a correct server
//! fail together about once in 74 000 runs (2 × 6.8e-6); `--loss 0` (drop nothing) is a
//! scenario of its own.
//!
//! ```toml
//! [[step]]
//! start = "server"
//! args = "--loss 0.3"
//!
//! [[step]]
//! check = "ping-loss"
//! params = { server = "server", pings = 400, loss = 0.3 }
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::line::ping_sequence;

use crate::outcome::{StepFailure, harness_trouble};
use crate::peers::MAX_DATAGRAM;
use crate::protocols::checks::{CheckContext, CheckKind};
use crate::transcript::Direction;
use crate::wire::{Flow, FlowEnd, Protocol};

/// The check's name in scenario files.
pub(super) const NAME: &str = "ping-loss";

/// This check, for the pack's `checks`.
pub(crate) const KIND: CheckKind = CheckKind {
    name: NAME,
    validate: |params, _| {
        // It pings a program the scenario started: it starts none itself.
        Params::parse(params)?;
        Ok(Vec::new())
    },
    real_only: None,
    schema: |generator| generator.subschema_for::<PingLossParams>(),
    run: |context, params| Box::pin(run(context, params)),
};

/// Time between two pings.
const PACE: Duration = Duration::from_millis(2);
/// How long answers are awaited after the last ping.
const LINGER: Duration = Duration::from_secs(1);
/// Width of the accepted band, in standard deviations.
const DEVIATIONS: f64 = 4.5;
/// The pinging socket's name in the transcript.
const LABEL: &str = "pinger";

/// `params = { server = "server", pings = 400, loss = 0.3 }`.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PingLossParams {
    /// The started program pinged (default `server`).
    server: Option<String>,
    /// How many pings, from 1 to 10000 (default 400).
    pings: Option<u64>,
    /// The fraction of pings the server is to lose, from 0 to 1 (default 0).
    loss: Option<f64>,
}

/// Parameters.
#[derive(Debug, Clone)]
pub(super) struct Params {
    server: String,
    pings: u64,
    loss: f64,
}

impl Params {
    /// Reads and checks `params`.
    pub(super) fn parse(params: &toml::Table) -> Result<Params, String> {
        let raw: PingLossParams = crate::protocols::checks::params_of(NAME, params)?;
        let server = crate::protocols::checks::server_or_default(raw.server);
        let pings = raw.pings.unwrap_or(400);
        if !(1..=10_000).contains(&pings) {
            return Err("`pings` must be an integer from 1 to 10000".into());
        }
        let loss = raw.loss.unwrap_or(0.0);
        if !(0.0..=1.0).contains(&loss) {
            return Err("`loss` must be a fraction from 0 to 1".into());
        }
        Ok(Params {
            server,
            pings,
            loss,
        })
    }

    /// The smallest and largest number of answers a correct server gives.
    pub(super) fn accepted_answers(&self) -> (u64, u64) {
        let n = self.pings as f64;
        let mean = n * (1.0 - self.loss);
        let spread = DEVIATIONS * (n * self.loss * (1.0 - self.loss)).sqrt();
        let low = (mean - spread).floor().max(0.0) as u64;
        let high = (mean + spread).ceil().min(n) as u64;
        (low, high)
    }
}

pub(crate) async fn run(
    run: &mut dyn CheckContext,
    params: &toml::Table,
) -> Result<(), StepFailure> {
    let params =
        Params::parse(params).map_err(|error| StepFailure::fail("valid parameters", error))?;
    let (socket, target) = crate::protocols::checks::datagrams_to(run, &params.server).await?;
    let transcript = run.transcript();
    transcript.name_program(LABEL, &params.server);
    // The pings' flow, for the capture (from 0.0.0.0:0 if the socket cannot tell its address).
    let local = socket
        .local_addr()
        .unwrap_or_else(|_| std::net::SocketAddr::from(([0, 0, 0, 0], 0)));
    let flow_from = move |transcript: &crate::transcript::Transcript, program| {
        transcript.flow(Flow::opened_by_harness(
            LABEL,
            Protocol::Udp,
            FlowEnd::harness(LABEL, local),
            transcript.program_end(LABEL, program),
        ))
    };
    let pings = flow_from(&transcript, target);
    let socket = Arc::new(socket);

    // Answers by sequence number; anything that is not the uppercased ping is kept apart.
    let answers: Arc<Mutex<BTreeMap<u64, Vec<u8>>>> = Arc::default();
    let strays: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    // How many pings have an answer so far: the linger ends early once all have.
    let (answered_so_far, mut answered_watch) = tokio::sync::watch::channel(0u64);
    let receiver = {
        let (socket, answers, strays, transcript) = (
            Arc::clone(&socket),
            Arc::clone(&answers),
            Arc::clone(&strays),
            transcript.clone(),
        );
        tokio::spawn(async move {
            let mut buffer = vec![0u8; MAX_DATAGRAM];
            while let Ok((size, sender)) = socket.recv_from(&mut buffer).await {
                let datagram = buffer[..size].to_vec();
                let flow = flow_from(&transcript, sender);
                transcript.datagram(flow, Direction::FromProgram, &datagram);
                match ping_sequence(&datagram) {
                    Some(seq) => {
                        let mut answers = answers.lock().expect("answers");
                        answers.insert(seq, datagram);
                        answered_so_far.send_replace(answers.len() as u64);
                    }
                    None => strays.lock().expect("strays").push(datagram),
                }
            }
        })
    };
    let mut sent = BTreeMap::new();
    for seq in 1..=params.pings {
        // The time field is only text to the server; the harness's clock keeps it
        // deterministic in the simulated world.
        let ping = format!("Ping {seq} {:.6}", run.elapsed().as_secs_f64()).into_bytes();
        if let Err(error) = socket.send_to(&ping, target).await {
            receiver.abort();
            return Err(harness_trouble(format!("cannot send ping {seq}: {error}")));
        }
        transcript.datagram(pings, Direction::ToProgram, &ping);
        sent.insert(seq, ping);
        tokio::time::sleep(PACE).await;
    }
    // Every ping answered: no later answer can change the count (a stray would have come
    // among the answers), so the check need not wait out the linger.
    let every_ping = params.pings;
    let _ = tokio::time::timeout(
        LINGER,
        answered_watch.wait_for(|answered| *answered >= every_ping),
    )
    .await;
    receiver.abort();

    let answers = std::mem::take(&mut *answers.lock().expect("answers"));
    let strays = std::mem::take(&mut *strays.lock().expect("strays"));
    if let Some(stray) = strays.first() {
        return Err(StepFailure::fail(
            "every answer to be a ping, uppercased (`PING <seq> <time>`)",
            format!(
                "{} answer(s) that are not: {}",
                strays.len(),
                crate::judge::diff::excerpt(stray)
            ),
        ));
    }
    for (seq, answer) in &answers {
        let Some(ping) = sent.get(seq) else {
            return Err(StepFailure::fail(
                "answers only to pings that were sent",
                format!("an answer for ping {seq}, never sent"),
            ));
        };
        if *answer != ping.to_ascii_uppercase() {
            return Err(StepFailure::fail(
                format!(
                    "the answer to ping {seq} to be `{}`",
                    String::from_utf8_lossy(&ping.to_ascii_uppercase())
                ),
                format!("`{}`", String::from_utf8_lossy(answer)),
            ));
        }
    }
    let answered = answers.len() as u64;
    let (low, high) = params.accepted_answers();
    run.note(format!(
        "{answered} of {} pings answered ({:.1}% lost; --loss {} accepts {low} to {high} answers)",
        params.pings,
        (params.pings - answered) as f64 * 100.0 / params.pings as f64,
        params.loss
    ));
    if (low..=high).contains(&answered) {
        Ok(())
    } else {
        Err(StepFailure::fail(
            format!(
                "between {low} and {high} of {} pings answered (a loss of {} within {DEVIATIONS} standard deviations)",
                params.pings, params.loss
            ),
            format!(
                "{answered} answered: a loss of {:.3}",
                (params.pings - answered) as f64 / params.pings as f64
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(loss: f64) -> Params {
        Params {
            server: "server".into(),
            pings: 400,
            loss,
        }
    }

    #[test]
    fn no_loss_accepts_only_every_answer() {
        assert_eq!(params(0.0).accepted_answers(), (400, 400));
    }

    #[test]
    fn thirty_percent_accepts_a_band_around_280() {
        // sd = sqrt(400 * 0.3 * 0.7) = 9.17; 4.5 sd = 41.2 around 280.
        assert_eq!(params(0.3).accepted_answers(), (238, 322));
    }

    #[test]
    fn seventy_percent_accepts_a_band_around_120() {
        assert_eq!(params(0.7).accepted_answers(), (78, 162));
    }

    #[test]
    fn no_fixed_share_fits_both_rates_but_by_a_wide_fluke() {
        // A server dropping the same share q both times answers about 400 (1 - q) pings
        // twice; both bands hold only if the two counts differ by at least the gap between
        // the bands. Even where that is likeliest (q = 0.5, sd of a count 10), the gap is
        // more than 5 standard deviations of the difference of two counts.
        let (low_30, _) = params(0.3).accepted_answers();
        let (_, high_70) = params(0.7).accepted_answers();
        let gap = (low_30 - high_70) as f64;
        let widest_sd_of_difference = (2.0 * 400.0 * 0.5 * 0.5_f64).sqrt();
        assert!(gap / widest_sd_of_difference > 5.0, "gap {gap}");
    }
}
