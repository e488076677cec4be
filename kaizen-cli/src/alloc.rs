//! The memory allocator: jemalloc on Unix, with its options, and what one-shot bulk writes
//! change in it.

#[cfg(unix)]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read at its start (a C string; the slice's pointer comes first), for
/// every command: one arena, and freed pages returned soon, which keeps a long import's or a
/// server's peak RSS flat as its input grows. Within 100 ms rather than 1 s: a 1 GB `import`
/// peaked at 172–181 MB instead of 196–206 MB, in the same time (8.0–9.3 s); returning them
/// at once (0 ms) made it 50% slower. `kaizen ingest` then turns the returning off
/// ([`keep_freed_pages`]). Allocations of 32 MiB and more (`oversize_threshold`, 8 MiB by
/// default: a day part's payload column is about 24 MiB) go to a second arena that returns
/// their pages at once: only lines of tens of megabytes make them. The 1 GB `import`
/// peaked at 178–186 MB with 32 MiB against 163–177 MB with 8 MiB.
#[cfg(unix)]
#[unsafe(export_name = "_rjem_malloc_conf")]
static JEMALLOC_CONF: &[u8] =
    b"narenas:1,background_thread:true,dirty_decay_ms:100,oversize_threshold:33554432\0";

/// From now on, freed pages of allocations under 32 MiB are kept for reuse instead of
/// being returned to the system, for a command that writes a bounded working set over and
/// over and then exits (`kaizen ingest`).
///
/// Why: the writer's buffers (parquet's page buffers, the Arrow columns of a day part,
/// about 1.4 GB allocated and freed per 1M events) were returned within 100 ms and each
/// one's pages zeroed and faulted in again by the next: 368k page faults for 1M events,
/// 1.2 CPU-s in the kernel. Kept: 100k faults and 0.55 CPU-s, for a peak RSS of
/// 250-265 MiB against 190-205. Only jemalloc's one arena is changed; allocations of
/// 32 MiB and more (`oversize_threshold`) live in its other arena, which still returns
/// them at once, so that a line of hundreds of megabytes (a tool result holding an image)
/// does not stay in memory beside the next one (a 200 MB line: 685 MB at peak, against
/// 646 MB before and 914 MB with every page kept). Not for `kaizen import`, whose goal is
/// a peak under 200 MB (it peaked at 281 MB with every page kept).
pub fn keep_freed_pages() {
    #[cfg(unix)]
    {
        // -1: never purge (jemalloc's `ssize_t` settings); arena 0 is the one arena of
        // `narenas:1`.
        let never: isize = -1;
        for name in [
            &b"arena.0.dirty_decay_ms\0"[..],
            b"arena.0.muzzy_decay_ms\0",
        ] {
            // SAFETY: both settings are an `ssize_t`, which `isize` is.
            let _ = unsafe { tikv_jemalloc_ctl::raw::write(name, never) };
        }
    }
}
