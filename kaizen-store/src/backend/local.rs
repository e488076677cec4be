use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;

use super::{Backend, FileMeta, Listing, StageWriter, Staged};
use crate::{Error, Result, layout};

/// A store in a local folder. Files are published by write-to-temp, fsync, link into place
/// (which fails rather than replace), fsync of the folder: no reader ever sees a partial file.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    root: PathBuf,
}

impl LocalBackend {
    /// The store in folder `root` (not created here: a store is made by its first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalBackend { root: root.into() }
    }

    /// The store's folder, as given.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn full(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }

    /// The path in messages: the full path on disk, which the user can open.
    fn shown(&self, path: &str) -> String {
        self.full(path).display().to_string()
    }

    async fn blocking<T: Send + 'static>(
        &self,
        path: &str,
        work: impl FnOnce(PathBuf) -> std::io::Result<T> + Send + 'static,
    ) -> Result<T> {
        let full = self.full(path);
        let shown = self.shown(path);
        match tokio::task::spawn_blocking(move || work(full)).await {
            Ok(result) => result.map_err(|e| match e.kind() {
                ErrorKind::NotFound => Error::NotFound { path: shown },
                ErrorKind::AlreadyExists => Error::AlreadyExists { path: shown },
                _ => Error::io(shown, e),
            }),
            Err(join) => Err(Error::io(shown, std::io::Error::other(join))),
        }
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    // A relative root's parent is the empty path: the current folder.
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)?.sync_all()
}

/// Creates `dir` and any missing parents, making each new entry durable in its parent.
fn create_dir_durable(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dir_durable(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => dir.parent().map_or(Ok(()), sync_dir),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl Backend for LocalBackend {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    async fn list(&self, dir: &str) -> Result<Listing> {
        let prefix = dir.trim_end_matches('/').to_owned();
        self.blocking(dir, move |full| {
            let mut listing = Listing::default();
            let entries = match fs::read_dir(&full) {
                Ok(entries) => entries,
                Err(e) if e.kind() == ErrorKind::NotFound => return Ok(listing),
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                // Names that are not UTF-8 cannot be any of the layout's names: foreign.
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                let path = if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}/{name}")
                };
                // Follows symlinks, as a reader opening the path would.
                let meta = match fs::metadata(entry.path()) {
                    Ok(meta) => meta,
                    Err(e) if e.kind() == ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                if meta.is_dir() {
                    listing.dirs.push(path);
                } else if meta.is_file() {
                    listing.files.push(FileMeta {
                        path,
                        size: meta.len(),
                        version: None,
                    });
                }
            }
            listing.files.sort_by(|a, b| a.path.cmp(&b.path));
            listing.dirs.sort();
            Ok(listing)
        })
        .await
    }

    async fn get_range(&self, path: &str, range: Range<u64>) -> Result<Bytes> {
        self.blocking(path, move |full| {
            let mut file = File::open(full)?;
            file.seek(SeekFrom::Start(range.start))?;
            let mut buf = vec![0; (range.end - range.start) as usize];
            file.read_exact(&mut buf)?;
            Ok(Bytes::from(buf))
        })
        .await
    }

    async fn stage_writer(&self, path: &str) -> Result<Box<dyn StageWriter>> {
        let staging_path = layout::staging_path(path);
        let file = self
            .blocking(&staging_path, move |full| {
                if let Some(dir) = full.parent() {
                    create_dir_durable(dir)?;
                }
                OpenOptions::new().write(true).create_new(true).open(&full)
            })
            .await?;
        Ok(Box::new(LocalStageWriter {
            backend: self.clone(),
            staged: Staged {
                path: path.to_owned(),
                staging_path,
                size: 0,
            },
            file: Some(file),
        }))
    }

    async fn publish(&self, staged: &Staged) -> Result<()> {
        let from = self.full(&staged.staging_path);
        self.blocking(&staged.path, move |to| {
            // A hard link never replaces an existing file; a rename would.
            fs::hard_link(&from, &to)?;
            fs::remove_file(&from)?;
            to.parent().map_or(Ok(()), sync_dir)
        })
        .await
    }

    async fn discard(&self, staged: &Staged) -> Result<()> {
        match self.delete(&staged.staging_path).await {
            Err(Error::NotFound { .. }) => Ok(()),
            other => other,
        }
    }

    async fn create_dir(&self, dir: &str) -> Result<()> {
        self.blocking(dir, move |full| create_dir_durable(&full))
            .await
    }

    async fn delete(&self, path: &str) -> Result<()> {
        let in_day_dir = path
            .rsplit_once('/')
            .is_some_and(|(dir, _)| layout::parse_day_dir(dir).is_some());
        self.blocking(path, move |full| {
            fs::remove_file(&full)?;
            let Some(dir) = full.parent() else {
                return Ok(());
            };
            // An emptied day folder goes too; one with anything else in it stays.
            if in_day_dir && fs::remove_dir(dir).is_ok() {
                return dir.parent().map_or(Ok(()), sync_dir);
            }
            sync_dir(dir)
        })
        .await
    }
}

/// A staging file written piece by piece, each on the blocking pool.
struct LocalStageWriter {
    backend: LocalBackend,
    staged: Staged,
    /// Away while a piece is written; gone after a failed write.
    file: Option<File>,
}

impl LocalStageWriter {
    fn take_file(&mut self) -> Result<File> {
        let gone = || std::io::Error::other("an earlier write to this file failed");
        (self.file.take())
            .ok_or_else(|| Error::io(self.backend.shown(&self.staged.staging_path), gone()))
    }
}

#[async_trait]
impl StageWriter for LocalStageWriter {
    async fn write(&mut self, data: Bytes) -> Result<()> {
        let mut file = self.take_file()?;
        let size = data.len() as u64;
        let file = (self.backend)
            .blocking(&self.staged.staging_path, move |_| {
                file.write_all(&data)?;
                Ok(file)
            })
            .await?;
        self.file = Some(file);
        self.staged.size += size;
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<Staged> {
        let file = self.take_file()?;
        (self.backend)
            .blocking(&self.staged.staging_path, move |_| file.sync_all())
            .await?;
        Ok(self.staged)
    }

    async fn abort(mut self: Box<Self>) -> Result<()> {
        drop(self.file.take());
        self.backend.discard(&self.staged).await
    }
}
