//! Datagram faults: loss, duplication and reordering, drawn from the seed.
//!
//! UDP promises nothing: a datagram may be lost, arrive twice, or overtake an earlier one.
//! On loopback none of that happens, and turmoil only loses or delays; [`FaultyDatagrams`]
//! wraps a simulated program's UDP socket and makes all three happen on its sends, from a
//! seeded generator, so a client that assumes "one send, one answer, in order" fails the
//! same way every time. (Latency comes from the simulated network itself.)

use std::io;
use std::net::SocketAddr;
use std::sync::Mutex;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reference::net::DatagramSocket;

use super::fnv1a;

/// Probabilities of each fault, per datagram sent.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DatagramPlan {
    /// The datagram is never delivered.
    pub loss: f64,
    /// The datagram is delivered twice.
    pub duplicate: f64,
    /// The datagram is held back and sent after the next one (if no other datagram is
    /// sent to the same socket afterwards, it is never delivered).
    pub reorder: f64,
}

impl DatagramPlan {
    /// Whether the plan changes anything.
    pub fn is_active(&self) -> bool {
        self.loss > 0.0 || self.duplicate > 0.0 || self.reorder > 0.0
    }
}

/// A datagram socket whose sends are lost, duplicated or reordered as the plan says.
pub struct FaultyDatagrams<S> {
    inner: S,
    plan: DatagramPlan,
    rng: Mutex<ChaCha8Rng>,
    held: Mutex<Option<(Vec<u8>, SocketAddr)>>,
}

impl<S> FaultyDatagrams<S> {
    /// Wraps `inner`; `name` picks this socket's own sequence of draws from the seed.
    pub fn new(inner: S, plan: DatagramPlan, seed: u64, name: &str) -> FaultyDatagrams<S> {
        FaultyDatagrams {
            inner,
            plan,
            rng: Mutex::new(ChaCha8Rng::seed_from_u64(seed ^ fnv1a(name.as_bytes()))),
            held: Mutex::new(None),
        }
    }

    /// The fate of the next datagram: (lost, duplicated, held back).
    fn draw(&self) -> (bool, bool, bool) {
        let mut rng = self
            .rng
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Always three draws, so one fault's probability does not shift the others' stream.
        let lost = rng.random_bool(self.plan.loss.clamp(0.0, 1.0));
        let duplicated = rng.random_bool(self.plan.duplicate.clamp(0.0, 1.0));
        let held = rng.random_bool(self.plan.reorder.clamp(0.0, 1.0));
        (lost, duplicated, held)
    }
}

impl<S: DatagramSocket> DatagramSocket for FaultyDatagrams<S> {
    async fn send_to(&self, datagram: &[u8], target: SocketAddr) -> io::Result<usize> {
        let (lost, duplicated, hold) = self.draw();
        // The sender cannot tell: a UDP send succeeds once the datagram leaves.
        if lost {
            return Ok(datagram.len());
        }
        let earlier = self
            .held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if hold && earlier.is_none() {
            *self
                .held
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) =
                Some((datagram.to_vec(), target));
            return Ok(datagram.len());
        }
        let sent = self.inner.send_to(datagram, target).await?;
        if duplicated {
            self.inner.send_to(datagram, target).await?;
        }
        // A held datagram goes out after this one: it arrives out of order.
        if let Some((bytes, to)) = earlier {
            self.inner.send_to(&bytes, to).await?;
        }
        Ok(sent)
    }

    async fn recv_from(&self, buffer: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.recv_from(buffer).await
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    use reference::net::{Network, Turmoil};

    use super::*;

    /// Sends 400 numbered datagrams through the plan in a simulation; returns the numbers
    /// in the order they arrived.
    fn arrivals(plan: DatagramPlan, seed: u64) -> Vec<u16> {
        let received: Rc<RefCell<Vec<u16>>> = Rc::default();
        // A fixed latency: turmoil's default draws one per message, which reorders by itself.
        let mut sim = turmoil::Builder::new()
            .rng_seed(seed)
            .min_message_latency(Duration::from_millis(1))
            .max_message_latency(Duration::from_millis(1))
            .udp_capacity(4096)
            .build();
        let sink = Rc::clone(&received);
        sim.host("receiver", move || {
            let sink = Rc::clone(&sink);
            async move {
                let socket = Turmoil.bind_udp(9000).await?;
                let mut buffer = [0u8; 8];
                loop {
                    let (count, _) = socket.recv_from(&mut buffer).await?;
                    if count == 2 {
                        sink.borrow_mut()
                            .push(u16::from_be_bytes([buffer[0], buffer[1]]));
                    }
                }
            }
        });
        sim.client("sender", async move {
            let socket = FaultyDatagrams::new(Turmoil.bind_udp(0).await?, plan, seed, "sender");
            let target = Turmoil.resolve("receiver", 9000).await?;
            for number in 0..400u16 {
                socket.send_to(&number.to_be_bytes(), target).await?;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
            Ok(())
        });
        sim.run().unwrap();
        received.take()
    }

    #[test]
    fn no_plan_delivers_everything_in_order() {
        let got = arrivals(DatagramPlan::default(), 1);
        assert_eq!(got, (0..400).collect::<Vec<_>>());
    }

    #[test]
    fn faults_happen_as_drawn_and_replay_for_a_seed() {
        let plan = DatagramPlan {
            loss: 0.2,
            duplicate: 0.1,
            reorder: 0.1,
        };
        let got = arrivals(plan, 7);
        assert_eq!(got, arrivals(plan, 7), "same seed, same fate");
        assert_ne!(got, arrivals(plan, 8), "another seed, another fate");
        let mut distinct = got.clone();
        distinct.sort_unstable();
        let before_dedup = distinct.len();
        distinct.dedup();
        let lost = 400 - distinct.len();
        assert!((40..=130).contains(&lost), "{lost} lost of 400 at 20%");
        assert!(before_dedup > distinct.len(), "some datagrams arrive twice");
        assert!(
            got.windows(2).any(|pair| pair[1] < pair[0]),
            "some arrive out of order"
        );
    }
}
