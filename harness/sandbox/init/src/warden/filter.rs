//! The seccomp filter that hands the program's calls to the warden, one for each
//! [`Mode`]: what the kernel lets through, what it refuses, and what the warden makes.

use super::Mode;

/// `offsetof(struct seccomp_data, args[4])`, its low and high words.
const ARG4_LOW: u32 = 48;
const ARG4_HIGH: u32 = 52;
use super::handoff::{Numbers, OWNED};

/// The calls the program's filter hands to the warden; with `counting`, every `connect`
/// (the warden counts the TCP ones).
pub(super) fn filter(
    mode: Mode,
    numbers: Numbers,
    counting: bool,
) -> Vec<crate::seccomp::Instruction> {
    use crate::seccomp::{ALLOW, AUDIT_ARCH, JUMP_EQUAL, LOAD_WORD, NR, RETURN, jump, statement};
    let mut code = vec![
        // Another architecture's numbers mean other calls: the main filter kills it.
        statement(LOAD_WORD, 4),
        jump(JUMP_EQUAL, AUDIT_ARCH, 1, 0),
        statement(RETURN, ALLOW),
        statement(LOAD_WORD, NR),
    ];
    code.extend(match mode {
        Mode::Copies => copies_filter(numbers),
        Mode::Owner => owner_filter(numbers, counting),
    });
    // A process that makes itself undumpable would keep the warden from reading its
    // memory (and, copying, its sockets), and every call it hands over would fail
    // (Chromium does, in each of its processes): the request succeeds without doing
    // anything. Nothing of the program's needs it: no process outside its Landlock domain
    // may trace it anyway.
    code.extend([
        jump(JUMP_EQUAL, libc::SYS_prctl as u32, 0, 3),
        statement(LOAD_WORD, crate::seccomp::ARG0_LOW),
        jump(JUMP_EQUAL, libc::PR_SET_DUMPABLE as u32, 0, 1),
        statement(RETURN, libc::SECCOMP_RET_ERRNO),
        statement(RETURN, ALLOW),
    ]);
    code
}

/// [`Mode::Copies`]: every `connect`, `bind`, `sendmsg`, `sendmmsg`, and `sendto` with an
/// address, whatever the socket; `sendmsg` on the handover's number let through. (Every
/// `connect` already goes to the warden, which counts it where asked.)
fn copies_filter(numbers: Numbers) -> Vec<crate::seccomp::Instruction> {
    use crate::seccomp::{ALLOW, ARG0_LOW, JUMP_EQUAL, LOAD_WORD, RETURN, jump, statement};
    let notify = libc::SECCOMP_RET_USER_NOTIF;
    let mut code = vec![
        jump(JUMP_EQUAL, libc::SYS_sendmsg as u32, 0, 4),
        statement(LOAD_WORD, ARG0_LOW),
        jump(JUMP_EQUAL, numbers.handoff as u32, 0, 1),
        statement(RETURN, ALLOW),
        statement(RETURN, notify),
    ];
    for call in [libc::SYS_connect, libc::SYS_bind, libc::SYS_sendmmsg] {
        code.push(jump(JUMP_EQUAL, call as u32, 0, 1));
        code.push(statement(RETURN, notify));
    }
    // sendto: handed over only with an address (its fifth argument not null); without
    // one it sends where the socket is connected, which `connect` checked.
    code.extend([
        jump(JUMP_EQUAL, libc::SYS_sendto as u32, 0, 6),
        statement(LOAD_WORD, ARG4_LOW),
        jump(JUMP_EQUAL, 0, 0, 3),
        statement(LOAD_WORD, ARG4_HIGH),
        jump(JUMP_EQUAL, 0, 0, 1),
        statement(RETURN, ALLOW),
        statement(RETURN, notify),
    ]);
    code
}

/// [`Mode::Owner`]: an internet datagram socket made by the warden; every call naming an
/// address on one of its numbers handed to it; nothing that would copy
/// a socket off its numbers (`dup`, `dup2`, `dup3`, `fcntl`'s `F_DUPFD`; `sendmsg`, which
/// passes descriptors, anywhere else than on its numbers or the handover's).
///
/// With `counting`, every `connect` on any other number too: the warden counts it and lets
/// the kernel make it (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`; TCP is walled by Landlock).
///
/// A number's test is one unsigned comparison: `fd - first < OWNED`.
fn owner_filter(numbers: Numbers, counting: bool) -> Vec<crate::seccomp::Instruction> {
    use crate::seccomp::{
        ALLOW, ARG0_LOW, ARG1_LOW, ARG2_LOW, JUMP_AT_LEAST, JUMP_EQUAL, LOAD_WORD, RETURN,
        SUBTRACT, jump, statement,
    };
    let notify = libc::SECCOMP_RET_USER_NOTIF;
    let refuse = |error: libc::c_int| libc::SECCOMP_RET_ERRNO | error as u32;
    let (first, count) = (numbers.owned as u32, OWNED as u32);
    let mut code = vec![
        // socket(AF_INET or AF_INET6, SOCK_DGRAM with any flags, ...): the warden's.
        jump(JUMP_EQUAL, libc::SYS_socket as u32, 0, 8),
        statement(LOAD_WORD, ARG0_LOW),
        jump(JUMP_EQUAL, libc::AF_INET as u32, 1, 0),
        jump(JUMP_EQUAL, libc::AF_INET6 as u32, 0, 4),
        statement(LOAD_WORD, ARG1_LOW),
        statement(crate::seccomp::AND, crate::seccomp::SOCKET_KIND_MASK),
        jump(JUMP_EQUAL, libc::SOCK_DGRAM as u32, 0, 1),
        statement(RETURN, notify),
        statement(RETURN, ALLOW),
    ];
    // On one of the warden's numbers: handed over; elsewhere the kernel's (TCP walled by
    // Landlock), but for a `connect` the warden counts.
    if counting {
        code.extend([
            jump(JUMP_EQUAL, libc::SYS_connect as u32, 0, 1),
            statement(RETURN, notify),
        ]);
    }
    for call in [libc::SYS_connect, libc::SYS_bind] {
        code.extend([
            jump(JUMP_EQUAL, call as u32, 0, 5),
            statement(LOAD_WORD, ARG0_LOW),
            statement(SUBTRACT, first),
            jump(JUMP_AT_LEAST, count, 1, 0),
            statement(RETURN, notify),
            statement(RETURN, ALLOW),
        ]);
    }
    // sendto on one of them with an address (its fifth argument not null): handed over;
    // without one it sends where the socket is connected, which the warden checked.
    code.extend([
        jump(JUMP_EQUAL, libc::SYS_sendto as u32, 0, 9),
        statement(LOAD_WORD, ARG0_LOW),
        statement(SUBTRACT, first),
        jump(JUMP_AT_LEAST, count, 5, 0),
        statement(LOAD_WORD, ARG4_LOW),
        jump(JUMP_EQUAL, 0, 0, 2),
        statement(LOAD_WORD, ARG4_HIGH),
        jump(JUMP_EQUAL, 0, 1, 0),
        statement(RETURN, notify),
        statement(RETURN, ALLOW),
    ]);
    // sendmsg and sendmmsg: handed over on the warden's numbers, let through on the
    // handover's, refused elsewhere (they could pass a copy of a datagram socket on).
    for call in [libc::SYS_sendmsg, libc::SYS_sendmmsg] {
        code.extend([
            jump(JUMP_EQUAL, call as u32, 0, 7),
            statement(LOAD_WORD, ARG0_LOW),
            jump(JUMP_EQUAL, numbers.handoff as u32, 4, 0),
            statement(SUBTRACT, first),
            jump(JUMP_AT_LEAST, count, 1, 0),
            statement(RETURN, notify),
            statement(RETURN, refuse(libc::EACCES)),
            statement(RETURN, ALLOW),
        ]);
    }
    // seccomp(SECCOMP_SET_MODE_FILTER) with a listener of its own: refused (its
    // SECCOMP_IOCTL_NOTIF_ADDFD could copy a socket off the block; the kernel refuses a
    // second listener in a chain only while the warden's is open).
    code.extend([
        jump(JUMP_EQUAL, libc::SYS_seccomp as u32, 0, 6),
        statement(LOAD_WORD, ARG0_LOW),
        jump(JUMP_EQUAL, libc::SECCOMP_SET_MODE_FILTER, 0, 3),
        statement(LOAD_WORD, ARG1_LOW),
        jump(
            crate::seccomp::JUMP_ANY_BIT,
            libc::SECCOMP_FILTER_FLAG_NEW_LISTENER as u32,
            0,
            1,
        ),
        statement(RETURN, refuse(libc::EPERM)),
        statement(RETURN, ALLOW),
    ]);
    // dup: not of one of the warden's numbers.
    code.extend([
        jump(JUMP_EQUAL, libc::SYS_dup as u32, 0, 5),
        statement(LOAD_WORD, ARG0_LOW),
        statement(SUBTRACT, first),
        jump(JUMP_AT_LEAST, count, 1, 0),
        statement(RETURN, refuse(libc::EPERM)),
        statement(RETURN, ALLOW),
    ]);
    // dup2 and dup3: neither from nor onto one of them.
    #[cfg(target_arch = "x86_64")]
    let duplicates = [libc::SYS_dup2, libc::SYS_dup3];
    #[cfg(not(target_arch = "x86_64"))]
    let duplicates = [libc::SYS_dup3];
    for call in duplicates {
        code.extend([
            jump(JUMP_EQUAL, call as u32, 0, 8),
            statement(LOAD_WORD, ARG0_LOW),
            statement(SUBTRACT, first),
            jump(JUMP_AT_LEAST, count, 0, 3),
            statement(LOAD_WORD, ARG1_LOW),
            statement(SUBTRACT, first),
            jump(JUMP_AT_LEAST, count, 1, 0),
            statement(RETURN, refuse(libc::EPERM)),
            statement(RETURN, ALLOW),
        ]);
    }
    // fcntl's F_DUPFD and F_DUPFD_CLOEXEC: not of one of them, nor to a number from the
    // first of them up.
    code.extend([
        jump(JUMP_EQUAL, libc::SYS_fcntl as u32, 0, 10),
        statement(LOAD_WORD, ARG1_LOW),
        jump(JUMP_EQUAL, libc::F_DUPFD as u32, 1, 0),
        jump(JUMP_EQUAL, libc::F_DUPFD_CLOEXEC as u32, 0, 6),
        statement(LOAD_WORD, ARG0_LOW),
        statement(SUBTRACT, first),
        jump(JUMP_AT_LEAST, count, 0, 2),
        statement(LOAD_WORD, ARG2_LOW),
        jump(JUMP_AT_LEAST, first, 0, 1),
        statement(RETURN, refuse(libc::EPERM)),
        statement(RETURN, ALLOW),
    ]);
    code
}
