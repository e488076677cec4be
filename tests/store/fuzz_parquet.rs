//! Fuzzing the Parquet decoding path with proptest: a data file with bytes flipped,
//! inserted or cut never makes a scan or a verify panic; each fails or reads, naming the file.

use bytes::Bytes;
use kaizen::store::codec::{encode_file, events_to_batch};
use kaizen::store::{EventStore, Query, SkippedFiles, Store, layout};
use proptest::prelude::*;

use crate::suite;

fn valid_file() -> Vec<u8> {
    let events = suite::sorted(suite::fixture_events());
    let day: Vec<_> = events
        .into_iter()
        .filter(|e| e.ts_ms < suite::day("2026-10-02").start_ms())
        .take(200)
        .collect();
    encode_file(&events_to_batch(&day), "seed")
        .expect("encode")
        .to_vec()
}

proptest! {
    // A fixed seed: the same cases on every run and in CI, so a failure can be replayed.
    #![proptest_config(ProptestConfig {
        cases: 200,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x6b61_697a_656e),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn damaged_files_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..4u8), 1..8)
    ) {
        let mut bytes = valid_file();
        for (at, byte, op) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match op {
                0 => bytes[i] = byte,
                1 => bytes[i] ^= 1 << (byte % 8),
                2 => bytes.truncate(i),
                _ => bytes.insert(i, byte),
            }
        }
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(async {
            let dir = tempfile::tempdir().expect("tmp");
            let store = Store::local(dir.path());
            let path = format!("{}/damaged.parquet", layout::day_dir(suite::day("2026-10-01")));
            suite::put_file(&store, &path, Bytes::from(bytes)).await;
            if let Err(e) = store.scan_events(Query::all()).await {
                prop_assert!(e.to_string().contains("damaged.parquet"), "{}", e);
            }
            let skipped = SkippedFiles::default();
            store.scan_events(Query::all().skip_corrupt(skipped)).await.ok();
            store.verify(true).await.expect("verify reports, it does not fail");
            Ok(())
        })?;
    }
}
