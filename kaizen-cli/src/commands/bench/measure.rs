//! Runs a command as a child process and measures it: wall time and peak resident memory.

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};

/// What a measured run took and printed.
#[derive(Debug, Clone)]
pub struct Measured {
    pub seconds: f64,
    /// The child's peak resident set size in bytes (`None` where the OS does not tell).
    pub peak_rss: Option<u64>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to its end, its output in files under `scratch` (so that no pipe can fill),
/// and fails with its standard error when it fails.
pub fn run(mut command: Command, scratch: &Path, what: &str) -> anyhow::Result<Measured> {
    let out_path = scratch.join(format!("{what}.out"));
    let err_path = scratch.join(format!("{what}.err"));
    command
        .stdin(Stdio::null())
        .stdout(File::create(&out_path)?)
        .stderr(File::create(&err_path)?);
    let started = Instant::now();
    let child = command
        .spawn()
        .with_context(|| format!("{what}: cannot start"))?;
    let (success, peak_rss) = wait(child)?;
    let seconds = started.elapsed().as_secs_f64();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    if !success {
        bail!("{what} failed: {}", stderr.trim());
    }
    let stdout = std::fs::read_to_string(&out_path)?;
    Ok(Measured {
        seconds,
        peak_rss,
        stdout,
        stderr,
    })
}

/// Waits for the child; whether it succeeded and its peak RSS.
#[cfg(unix)]
pub fn wait(child: std::process::Child) -> anyhow::Result<(bool, Option<u64>)> {
    let pid = libc::pid_t::try_from(child.id()).context("child pid")?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct, and wait4 only
    // writes into the two locals it is given, for a child of this process.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if waited != pid {
        bail!("waiting for pid {pid}: {}", std::io::Error::last_os_error());
    }
    let success = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    // ru_maxrss is in KiB on Linux and the BSDs, in bytes on macOS.
    let unit = if cfg!(target_os = "macos") { 1 } else { 1024 };
    let peak = u64::try_from(usage.ru_maxrss).ok().map(|n| n * unit);
    Ok((success, peak))
}

#[cfg(not(unix))]
pub fn wait(mut child: std::process::Child) -> anyhow::Result<(bool, Option<u64>)> {
    Ok((child.wait()?.success(), None))
}
