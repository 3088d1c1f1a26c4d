//! How scenarios run. The real world runs each role as a child process on this machine,
//! talking over loopback. (The simulated world, where the reference runs inside a
//! deterministic network, is a separate room.)

pub mod real;
