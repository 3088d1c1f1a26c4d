//! `--html DIR`: being built (see issue 5); a placeholder that refuses to write.

use std::io;
use std::path::PathBuf;

use super::{Reporter, RunRecord};

/// The `--html` reporter.
pub struct HtmlReport {
    dir: PathBuf,
    /// Where `--pcap` writes the captures (None: the HTML folder writes its own).
    pcap_dir: Option<PathBuf>,
}

impl HtmlReport {
    /// Writes the pages into `dir`; links captures under `pcap_dir` when given.
    pub fn new(dir: PathBuf, pcap_dir: Option<PathBuf>) -> HtmlReport {
        HtmlReport { dir, pcap_dir }
    }
}

impl Reporter for HtmlReport {
    fn finish(&mut self, _: &RunRecord) -> io::Result<()> {
        let _ = &self.pcap_dir;
        Err(io::Error::other(format!(
            "--html is not built yet ({})",
            self.dir.display()
        )))
    }
}
