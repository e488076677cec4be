use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field as ArrowField, Schema, SchemaRef};
use kaizen_core::Field;

use crate::{Error, Result};

/// The Arrow type of each column: the event fields' as in the v1 format, then the derived
/// columns' (schema 2).
pub const fn column_type(field: Field) -> DataType {
    match field {
        Field::SessionId
        | Field::Kind
        | Field::Source
        | Field::Tool
        | Field::ToolCallId
        | Field::Payload
        | Field::StopReason => DataType::Utf8,
        Field::Model | Field::Agent | Field::Project => DataType::Utf8,
        Field::Seq | Field::TsMs => DataType::UInt64,
        Field::TsExact => DataType::Boolean,
        Field::CostUsdE6 => DataType::Int64,
        Field::RetryCount => DataType::UInt16,
        Field::TokensIn
        | Field::TokensOut
        | Field::ReasoningTokens
        | Field::LatencyMs
        | Field::TtftMs
        | Field::ContextUsedTokens
        | Field::ContextMaxTokens
        | Field::CacheCreationTokens
        | Field::CacheReadTokens
        | Field::SystemPromptTokens
        | Field::CacheCreation1hTokens
        | Field::ToolErrors => DataType::UInt32,
    }
}

fn schema_of(columns: &[Field]) -> Schema {
    // Every column is marked nullable, as v1 files mark them: readers of v1 files and ours see
    // one schema. Required fields are checked for nulls on decode, never trusted to the flag.
    Schema::new(
        columns
            .iter()
            .map(|&f| ArrowField::new(f.name(), column_type(f), true))
            .collect::<Vec<_>>(),
    )
}

static EVENT_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| Arc::new(schema_of(&Field::ALL)));
static FILE_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| Arc::new(schema_of(&Field::COLUMNS)));

/// The 22-column v1 schema of the event fields, in v1 column order: the schema of a batch
/// of events ([`super::events_to_batch`]).
pub fn event_schema() -> SchemaRef {
    EVENT_SCHEMA.clone()
}

/// The 27-column schema of a file this build writes: the event schema, then the derived
/// columns ([`Field::DERIVED`]), which the encoders compute from the payloads.
pub fn file_schema() -> SchemaRef {
    FILE_SCHEMA.clone()
}

/// The schema of a projection, in the order the columns were asked for.
pub fn projected_schema(columns: &[Field]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|f| FILE_SCHEMA.field(f.index()).clone())
            .collect::<Vec<_>>(),
    ))
}

/// Parses a list of column names into fields, refusing unknown names.
pub fn parse_columns<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Vec<Field>> {
    names
        .into_iter()
        .map(|n| {
            Field::column_from_name(n.trim()).ok_or_else(|| Error::UnknownColumn(n.to_owned()))
        })
        .collect()
}
