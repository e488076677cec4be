//! Events handed to an import's sink in chunks: at most `chunk_events` events or about
//! `chunk_bytes` of payload each, so that a reader and the store's writer overlap without
//! either holding a whole file.

use kaizen_core::Event;

use crate::import::ImportOptions;
use crate::{Error, Result, SinkError};

/// The chunk being filled, and the sink it goes to.
pub(crate) struct Chunks<'a> {
    options: &'a ImportOptions,
    sink: &'a mut dyn FnMut(Vec<Event>) -> Result<(), SinkError>,
    chunk: Vec<Event>,
    /// About the memory of `chunk`: its payloads' bytes and 64 a event.
    bytes: usize,
    /// Source bytes already given to `options.on_bytes`.
    bytes_reported: u64,
}

impl<'a> Chunks<'a> {
    pub(crate) fn new(
        options: &'a ImportOptions,
        sink: &'a mut dyn FnMut(Vec<Event>) -> Result<(), SinkError>,
    ) -> Self {
        Chunks {
            options,
            sink,
            chunk: Vec::new(),
            bytes: 0,
            bytes_reported: 0,
        }
    }

    /// Adds `event`; true when the chunk is full and should be handed over (now, or when
    /// the caller is done with the line it came from).
    pub(crate) fn add(&mut self, event: Event) -> bool {
        self.bytes += event.payload.as_json_text().len() + 64;
        self.chunk.push(event);
        self.chunk.len() >= self.options.chunk_events.max(1)
            || self.bytes >= self.options.chunk_bytes
    }

    /// Tells `on_bytes` of the source bytes read since it last heard (`bytes_read` in
    /// all), and hands the chunk over, if any.
    pub(crate) fn flush(&mut self, bytes_read: u64) -> Result<()> {
        if let Some(hook) = &self.options.on_bytes
            && bytes_read > self.bytes_reported
        {
            (hook.0)(bytes_read - self.bytes_reported);
            self.bytes_reported = bytes_read;
        }
        if self.chunk.is_empty() {
            return Ok(());
        }
        self.bytes = 0;
        let chunk = std::mem::take(&mut self.chunk);
        (self.sink)(chunk).map_err(Error::Sink)
    }

    /// The sink, for a source that hands over on its own (upstream kaizen's databases).
    pub(crate) fn sink(&mut self) -> &mut dyn FnMut(Vec<Event>) -> Result<(), SinkError> {
        &mut *self.sink
    }
}
