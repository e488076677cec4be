//! The memory allocator: jemalloc on Unix, with its options, and what one-shot bulk writes
//! change in it.

#[cfg(unix)]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read at its start (a C string; the slice's pointer comes first): one
/// arena and freed pages returned soon keep ingest's peak RSS flat as the input grows
/// (measured with 1 s: 1M events 129 MB, 3M 144 MB), at the same speed (kaizen bench).
/// Within 100 ms rather than 1 s: a 1 GB `import` peaked at 172–181 MB instead of 196–206 MB, in the
/// same time (8.0–9.3 s), and ingest of 1M events was as fast (3.1–3.2 s); returning them
/// at once (0 ms) made both 50% slower.
#[cfg(unix)]
#[unsafe(export_name = "_rjem_malloc_conf")]
static JEMALLOC_CONF: &[u8] = b"narenas:1,background_thread:true,dirty_decay_ms:100\0";

/// From now on, freed pages are kept for reuse instead of being returned to the system,
/// for a command that writes a bounded working set over and over and then exits
/// (`kaizen ingest`).
///
/// Why: the writer's large buffers (a day part's Arrow payload column, parquet's page
/// buffers, about 1.4 GB for 1M events) are each freed once encoded; returned within
/// 100 ms, each one's pages were zeroed and faulted in again by the next (367k page faults
/// for 1M events, 1.2 CPU-s in the kernel). Kept: 93k faults, 0.66 CPU-s, for a peak RSS
/// of 215–240 MB against 170–190 MB. Not for `kaizen import`, whose goal is a peak under
/// 200 MB: it peaked at 281 MB so (its buffers come in more sizes, so fewer are reused).
/// jemalloc's decay applies per arena, and its arena for allocations of 8 MiB and more
/// is made when first needed, from the default set here.
pub fn keep_freed_pages() {
    #[cfg(unix)]
    {
        use tikv_jemalloc_ctl::{arenas, raw};
        // -1: never purge (jemalloc's `dirty_decay_ms`, `muzzy_decay_ms`; `ssize_t`).
        let never: isize = -1;
        let mut names = vec![
            "arenas.dirty_decay_ms".to_owned(),
            "arenas.muzzy_decay_ms".to_owned(),
        ];
        for arena in 0..arenas::narenas::read().unwrap_or(0) {
            names.push(format!("arena.{arena}.dirty_decay_ms"));
            names.push(format!("arena.{arena}.muzzy_decay_ms"));
        }
        for name in names {
            let name = format!("{name}\0");
            // SAFETY: each of these jemalloc settings is an `ssize_t`, which `isize` is. An
            // arena not yet made refuses the setting: it takes the default when it is made.
            let _ = unsafe { raw::write(name.as_bytes(), never) };
        }
    }
}
