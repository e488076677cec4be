//! Small documents a store keeps beside its data (an importer's cursors, for one): each
//! named document is a folder of versions, `state/<name>/<uuid-v7>.json`, the newest of
//! which is the document. A version is written whole and never replaced (staged, then
//! published create-only), so a reader sees the old document or the new one, never a
//! part; older versions are removed after the new one is published.

use bytes::Bytes;

use super::Store;
use crate::{Error, Result, layout};

impl Store {
    /// The newest version of the state document `name`, or `None` when there is none.
    /// Errors: the store cannot be listed or read.
    pub async fn read_state(&self, name: &str) -> Result<Option<Bytes>> {
        let listing = self.backend.list(&layout::state_dir(name)).await?;
        let newest = (listing.files.into_iter())
            .filter(|f| is_version(&f.path))
            .max_by(|a, b| a.path.cmp(&b.path));
        match newest {
            Some(file) => Ok(Some(
                self.backend.get_range(&file.path, 0..file.size).await?,
            )),
            None => Ok(None),
        }
    }

    /// Publishes `bytes` as the new version of the state document `name`, then removes
    /// the older versions (best effort: one left behind is simply not the newest).
    pub async fn write_state(&self, name: &str, bytes: Bytes) -> Result<()> {
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(Error::Url {
                url: self.backend.location(),
                reason: format!("state document name {name:?} is not a plain name"),
            });
        }
        let path = layout::new_state_path(name);
        let staged = self.backend.stage(&path, bytes).await?;
        if let Err(e) = self.backend.publish(&staged).await {
            let _ = self.backend.discard(&staged).await;
            return Err(e);
        }
        if let Ok(listing) = self.backend.list(&layout::state_dir(name)).await {
            for old in listing
                .files
                .iter()
                .filter(|f| is_version(&f.path) && f.path < path)
            {
                let _ = self.backend.delete(&old.path).await;
            }
        }
        Ok(())
    }
}

impl Store {
    /// As [`Store::write_state`], but every older version must go: one that cannot be
    /// removed is the error (what an erasure needs: an older version may hold what was
    /// erased).
    pub async fn replace_state(&self, name: &str, bytes: Bytes) -> Result<()> {
        self.write_state(name, bytes).await?;
        let versions: Vec<String> = (self.backend.list(&layout::state_dir(name)).await?.files)
            .into_iter()
            .map(|f| f.path)
            .filter(|p| is_version(p))
            .collect();
        let Some(newest) = versions.iter().max().cloned() else {
            return Ok(());
        };
        for old in versions.iter().filter(|p| **p < newest) {
            match self.backend.delete(old).await {
                Ok(()) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// A published version (not a staging file, nor anything else put in the folder).
fn is_version(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    !layout::is_staging(path) && !name.starts_with('.') && name.ends_with(".json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EventStore;

    #[tokio::test]
    async fn the_newest_version_is_the_document_and_older_ones_go() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::local(dir.path());
        assert_eq!(store.read_state("cursors").await.expect("read"), None);
        store
            .write_state("cursors", Bytes::from_static(b"[1]"))
            .await
            .expect("write");
        store
            .write_state("cursors", Bytes::from_static(b"[1,2]"))
            .await
            .expect("write");
        let read = store.read_state("cursors").await.expect("read");
        assert_eq!(read.as_deref(), Some(&b"[1,2]"[..]));
        let versions = std::fs::read_dir(dir.path().join("state/cursors")).expect("dir");
        assert_eq!(versions.count(), 1, "the older version is removed");
        assert!(store.write_state("../x", Bytes::new()).await.is_err());
        // Never read as data.
        assert!(store.partitions().await.expect("partitions").is_empty());
    }
}
