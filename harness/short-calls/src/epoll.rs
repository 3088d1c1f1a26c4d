//! Which descriptors an event loop watches edge-triggered (`EPOLLET`), remembered from the
//! `epoll_ctl` calls the library stands in front of, and the registration made again
//! after a cut so that the loop looks once more (see "Event loops" in the crate's docs).

use core::sync::atomic::{AtomicI32, AtomicU8, AtomicU32, AtomicU64, Ordering};

use libc::{c_int, ssize_t};

use crate::{EpollCtlFn, REAL_EPOLL_CTL, errno, set_errno};

/// Descriptors below this have their `epoll` registration remembered; a larger one that an
/// event loop watches edge-triggered is left whole.
const WATCHED_FDS: usize = 16384;

/// For each descriptor registered edge-triggered (`EPOLLET`): the `epoll` descriptor plus
/// one (0: none), and the registration's events and data, to register it again after a cut
/// (see [`rearm`]). The three are written together by `epoll_ctl` and read together after a
/// cut; a registration changed in between makes at worst one spurious event.
static EPOLL_FD: [AtomicI32; WATCHED_FDS] = [const { AtomicI32::new(0) }; WATCHED_FDS];
static EPOLL_EVENTS: [AtomicU32; WATCHED_FDS] = [const { AtomicU32::new(0) }; WATCHED_FDS];
static EPOLL_DATA: [AtomicU64; WATCHED_FDS] = [const { AtomicU64::new(0) }; WATCHED_FDS];
/// Set when some descriptor past [`WATCHED_FDS`] was registered edge-triggered.
static UNWATCHED_EDGE: AtomicU8 = AtomicU8::new(0);

/// Notes `fd`'s registration with `epoll_fd` (`events` and `data`), or its end (`None`).
pub(crate) fn remember_registration(epoll_fd: c_int, fd: c_int, event: Option<(u32, u64)>) {
    let edge = event.filter(|(events, _)| events & libc::EPOLLET as u32 != 0);
    let Some(slot) = usize::try_from(fd).ok().filter(|fd| *fd < WATCHED_FDS) else {
        if edge.is_some() {
            UNWATCHED_EDGE.store(1, Ordering::Relaxed);
        }
        return;
    };
    match edge {
        Some((events, data)) => {
            EPOLL_EVENTS[slot].store(events, Ordering::Relaxed);
            EPOLL_DATA[slot].store(data, Ordering::Relaxed);
            EPOLL_FD[slot].store(epoll_fd.saturating_add(1), Ordering::Release);
        }
        // A level-triggered registration, or none: nothing to do after a cut. (Only the
        // epoll set it was registered with may end it: another set's DEL leaves it.)
        None => {
            let _ = EPOLL_FD[slot].compare_exchange(
                epoll_fd.saturating_add(1),
                0,
                Ordering::AcqRel,
                Ordering::Relaxed,
            );
        }
    }
}

/// How an event loop watches a descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Watch {
    /// Level-triggered, or not at all: a short count is no news to it.
    Level,
    /// Edge-triggered: after a short count it waits for the next edge, which [`rearm`]
    /// makes.
    Edge {
        epoll_fd: c_int,
        events: u32,
        data: u64,
    },
    /// Edge-triggered in a way that cannot be made again from here (`EPOLLONESHOT`, which
    /// another thread may be serving, `EPOLLEXCLUSIVE`, or a descriptor too large to
    /// remember): left whole.
    Untouchable,
}

pub(crate) fn watch_of(fd: c_int) -> Watch {
    let Some(slot) = usize::try_from(fd).ok().filter(|fd| *fd < WATCHED_FDS) else {
        return if UNWATCHED_EDGE.load(Ordering::Relaxed) != 0 {
            Watch::Untouchable
        } else {
            Watch::Level
        };
    };
    let epoll_fd = EPOLL_FD[slot].load(Ordering::Acquire);
    if epoll_fd == 0 {
        return Watch::Level;
    }
    let events = EPOLL_EVENTS[slot].load(Ordering::Relaxed);
    if events & (libc::EPOLLONESHOT as u32 | libc::EPOLLEXCLUSIVE as u32) != 0 {
        return Watch::Untouchable;
    }
    Watch::Edge {
        epoll_fd: epoll_fd - 1,
        events,
        data: EPOLL_DATA[slot].load(Ordering::Relaxed),
    }
}

/// After a call on an edge-triggered descriptor was cut and moved `moved` bytes: event
/// loops such as tokio take a short count for "the kernel's buffer is empty (or full)" and
/// wait for the next edge, which the kernel would not send, since nothing changed. Modifying
/// the registration to what it was (`EPOLL_CTL_MOD`) queues the descriptor again if it is
/// ready: the loop looks once more, as it would after any spurious wake-up, and goes on.
pub(crate) fn rearm(fd: c_int, moved: ssize_t) {
    if moved <= 0 {
        return;
    }
    if let Watch::Edge {
        epoll_fd,
        events,
        data,
    } = watch_of(fd)
    {
        let saved = errno();
        let mut event = libc::epoll_event { events, u64: data };
        let _: c_int = call_real!(
            REAL_EPOLL_CTL,
            EpollCtlFn,
            epoll_fd,
            libc::EPOLL_CTL_MOD,
            fd,
            &mut event
        );
        set_errno(saved);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_triggered_registrations_are_remembered() {
        let edge = libc::EPOLLIN as u32 | libc::EPOLLET as u32;
        assert_eq!(watch_of(40), Watch::Level);
        remember_registration(7, 40, Some((edge, 99)));
        assert_eq!(
            watch_of(40),
            Watch::Edge {
                epoll_fd: 7,
                events: edge,
                data: 99
            }
        );
        assert_eq!(watch_of(41), Watch::Level);
        // Another epoll set's DEL leaves it; its own ends it.
        remember_registration(8, 40, None);
        assert_ne!(watch_of(40), Watch::Level);
        remember_registration(7, 40, None);
        assert_eq!(watch_of(40), Watch::Level);
        remember_registration(7, 42, Some((edge | libc::EPOLLONESHOT as u32, 1)));
        assert_eq!(watch_of(42), Watch::Untouchable);
        remember_registration(7, 43, Some((libc::EPOLLIN as u32, 1)));
        assert_eq!(watch_of(43), Watch::Level, "level-triggered");
        assert_eq!(watch_of(70_000), Watch::Level);
        remember_registration(7, 70_000, Some((edge, 1)));
        assert_eq!(
            watch_of(70_000),
            Watch::Untouchable,
            "too large to remember"
        );
    }
}
