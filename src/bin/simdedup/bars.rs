//! Progress bars on stderr (indicatif), behind the library's `Progress` trait. Hidden when
//! stderr is not a terminal or with `--quiet`.

use std::io::IsTerminal;
use std::sync::RwLock;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use simdedup::Progress;

/// One bar at a time, replaced at each phase.
pub struct Bars {
    enabled: bool,
    bar: RwLock<Option<ProgressBar>>,
}

impl Bars {
    pub fn new(quiet: bool) -> Bars {
        Bars {
            enabled: !quiet && std::io::stderr().is_terminal(),
            bar: RwLock::new(None),
        }
    }

    /// Runs `f` (which prints to stderr) with the bar cleared, so lines don't mix.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &*self.bar.read().expect("bar lock") {
            Some(bar) => bar.suspend(f),
            None => f(),
        }
    }
}

impl Progress for Bars {
    fn start(&self, what: &str, total: u64, unit: &str) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let template = format!(
            "{{msg}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} ({{per_sec}}, eta {{eta}})"
        );
        bar.set_style(
            ProgressStyle::with_template(&template)
                .expect("valid template")
                .progress_chars("=> "),
        );
        bar.set_message(what.to_string());
        *self.bar.write().expect("bar lock") = Some(bar);
    }

    fn inc(&self, n: u64) {
        if let Some(bar) = &*self.bar.read().expect("bar lock") {
            bar.inc(n);
        }
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.write().expect("bar lock").take() {
            bar.finish_and_clear();
        }
    }
}
