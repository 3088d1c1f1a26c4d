//! The ping server: answer every ping in uppercase, except a random fraction dropped.

use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Parser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::AsyncWrite;

use crate::DATAGRAM_BUFFER_SIZE;
use crate::cli::{self, Stdio};
use crate::net::{DatagramSocket, Network};

/// UDP ping server: sends every ping back uppercased, dropping a random fraction.
#[derive(Parser)]
#[command(name = "udp-pinger-server")]
struct Args {
    /// UDP port to receive on (0 picks a free one).
    port: u16,
    /// Fraction of the pings to drop at random, from 0 (none) to 1 (all).
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction)]
    loss: f64,
    /// Seed of the random drops: the same seed drops the same pings (default: from the
    /// clock, different on every run).
    #[arg(long)]
    seed: Option<u64>,
}

/// Reads a fraction between 0 and 1 (the `--loss` option).
fn parse_fraction(text: &str) -> Result<f64, String> {
    let fraction: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    // `contains` is false for NaN too.
    if (0.0..=1.0).contains(&fraction) {
        Ok(fraction)
    } else {
        Err(format!("{text} is not between 0 and 1"))
    }
}

/// `udp-pinger-server PORT [--loss FRACTION] [--seed N]`: binds, then answers pings forever.
///
/// Prints nothing on stdout, and on stderr only what goes wrong: a dropped ping is the
/// server doing its job.
pub async fn server_main<N: Network>(net: N, args: Vec<String>, mut stdio: Stdio) -> i32 {
    let args: Args = match cli::parse_args(args, &mut stdio).await {
        Ok(args) => args,
        Err(status) => return status,
    };
    let socket = match net.bind_udp(args.port).await {
        Ok(socket) => socket,
        // SPEC conventions: cannot bind -> stderr, non-zero exit, nothing on stdout.
        Err(error) => {
            let context = format!("cannot bind UDP port {}", args.port);
            return cli::fail(&mut stdio.stderr, "udp-pinger-server", context, error).await;
        }
    };
    // The drops are random, but a seeded generator makes them repeatable: the harness's
    // simulated world always passes `--seed`, so a run replays exactly. `StdRng`'s
    // algorithm may change with the `rand` version; within one build, a seed is a seed.
    let seed = args.seed.unwrap_or_else(clock_seed);
    let mut random = StdRng::seed_from_u64(seed);
    // Only ends if the socket itself breaks.
    let error = serve(&socket, args.loss, &mut random, &mut stdio.stderr).await;
    cli::fail(
        &mut stdio.stderr,
        "udp-pinger-server",
        "the socket failed",
        error,
    )
    .await
}

/// A seed that differs from run to run: the clock's nanoseconds.
fn clock_seed() -> u64 {
    // Before 1970 only on a badly broken clock; any seed does then.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since_epoch| since_epoch.as_nanos() as u64)
}

/// Whether to drop the next ping: true with probability `loss` (between 0 and 1).
///
/// One draw per ping, so the drops depend only on the seed and the order of the pings.
/// The handout's server does the same with `random.randint(0, 10) < 4`.
pub fn should_drop<R: Rng>(random: &mut R, loss: f64) -> bool {
    random.random_bool(loss)
}

/// Answers every ping `socket` receives with its uppercase version, sent back to its
/// sender, except the ones [`should_drop`] picks. Returns only if receiving fails: the
/// socket itself is broken.
///
/// `diagnostics` (stderr) receives a line per reply that could not be sent; the server
/// then goes on with the next ping.
pub async fn serve<D, R, E>(socket: &D, loss: f64, random: &mut R, diagnostics: &mut E) -> io::Error
where
    D: DatagramSocket,
    R: Rng,
    E: AsyncWrite + Unpin,
{
    // Big enough for any datagram, so no ping is cut (see `DATAGRAM_BUFFER_SIZE`).
    // Allocated once, on the heap: 64 KiB is a lot for a stack.
    let mut buffer = vec![0u8; DATAGRAM_BUFFER_SIZE];
    // Forever: every client is just the sender of the next ping.
    loop {
        let (size, sender) = match socket.recv_from(&mut buffer).await {
            Ok(received) => received,
            // On Linux an unconnected UDP socket reports no error about past datagrams:
            // a failing receive is a broken socket.
            Err(error) => return error,
        };
        // SPEC ping/3: lose the given fraction, at random. Dropping is simply not
        // answering: the client cannot tell it from a datagram lost on the network.
        if should_drop(random, loss) {
            continue;
        }
        let reply = &mut buffer[..size];
        // SPEC ping/3: the ping uppercased, bytes not text (only `a`-`z` change).
        reply.make_ascii_uppercase();
        if let Err(error) = socket.send_to(reply, sender).await {
            let line = format!("udp-pinger-server: cannot reply to {sender}: {error}");
            cli::diagnose(diagnostics, line).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_is_a_fraction_between_0_and_1() {
        assert_eq!(parse_fraction("0"), Ok(0.0));
        assert_eq!(parse_fraction("0.3"), Ok(0.3));
        assert_eq!(parse_fraction("1"), Ok(1.0));
        for bad in ["-0.1", "1.5", "30%", "NaN", "", "inf"] {
            assert!(parse_fraction(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn no_loss_drops_nothing_and_full_loss_drops_everything() {
        let mut random = StdRng::seed_from_u64(1);
        assert!((0..1000).all(|_| !should_drop(&mut random, 0.0)));
        assert!((0..1000).all(|_| should_drop(&mut random, 1.0)));
    }

    #[test]
    fn a_fraction_is_dropped_about_as_often_as_asked() {
        let mut random = StdRng::seed_from_u64(7);
        let dropped = (0..10_000)
            .filter(|_| should_drop(&mut random, 0.3))
            .count();
        // 0.3 * 10000 = 3000, standard deviation about 46: 300 is more than 6 of them.
        assert!(
            (2700..=3300).contains(&dropped),
            "dropped {dropped} of 10000"
        );
    }

    #[test]
    fn the_same_seed_drops_the_same_pings() {
        let draws = |seed| {
            let mut random = StdRng::seed_from_u64(seed);
            (0..64)
                .map(|_| should_drop(&mut random, 0.5))
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(42), draws(42));
        assert_ne!(draws(42), draws(43));
    }
}
