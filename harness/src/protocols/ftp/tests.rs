//! The FTP peer against clients nobody here wrote.
