//! Progress bars on a terminal's stderr; hidden when stderr is not a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar over a known number of bytes, or a spinner counting bytes when the size is unknown.
pub fn bytes(total: Option<u64>) -> ProgressBar {
    let bar = match total {
        Some(total) => ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
            .with_style(style(
                "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
            .with_style(style("{spinner} {msg} {bytes} {bytes_per_sec}")),
    };
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

fn style(template: &str) -> ProgressStyle {
    // The templates are constants of this file; a bad one falls back to the default style.
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}
