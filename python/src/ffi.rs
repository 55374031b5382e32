//! The Arrow C stream interface through PyCapsules (`__arrow_c_stream__`): the only unsafe code
//! of the module.
#![allow(unsafe_code)]

use std::ffi::CStr;
use std::sync::Mutex;

use arrow_array::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use arrow_array::{RecordBatch, RecordBatchIterator};
use arrow_schema::SchemaRef;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

const STREAM: &CStr = c"arrow_array_stream";

/// Takes the Arrow stream an object exports through `__arrow_c_stream__` (a pyarrow Table or
/// RecordBatchReader, a polars DataFrame, ...). The stream is moved out of the capsule, so the
/// capsule's destructor does not release it again.
pub(crate) fn import_stream(obj: &Bound<'_, PyAny>) -> PyResult<ArrowArrayStreamReader> {
    let capsule = obj.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err("__arrow_c_stream__ did not return a PyCapsule")
    })?;
    let ptr = capsule.pointer_checked(Some(STREAM))?;
    // SAFETY: the capsule is named "arrow_array_stream", so by the Arrow PyCapsule interface it
    // points at a valid FFI_ArrowArrayStream; from_raw moves it out and leaves a released
    // (empty) stream behind, which the capsule's destructor then ignores.
    unsafe { ArrowArrayStreamReader::from_raw(ptr.as_ptr().cast::<FFI_ArrowArrayStream>()) }
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("not an Arrow stream: {e}")))
}

/// Record batches offered to Python as an Arrow stream (`__arrow_c_stream__`), once:
/// `pyarrow.table(stream)` or `polars.DataFrame(stream)` takes them without a copy.
#[pyclass(frozen, module = "sellerlink._sellerlink")]
pub(crate) struct ArrowStream {
    schema: SchemaRef,
    batches: Mutex<Option<Vec<RecordBatch>>>,
}

impl ArrowStream {
    pub(crate) fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        Self { schema, batches: Mutex::new(Some(batches)) }
    }
}

#[pymethods]
impl ArrowStream {
    /// The Arrow PyCapsule stream protocol. `requested_schema` is ignored (the schema is fixed).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        let _ = requested_schema;
        let batches = self
            .batches
            .lock()
            .map_err(|_| pyo3::exceptions::PyRuntimeError::new_err("stream lock poisoned"))?
            .take()
            .ok_or_else(|| {
                pyo3::exceptions::PyRuntimeError::new_err("this Arrow stream was already consumed")
            })?;
        let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), self.schema.clone());
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        PyCapsule::new_with_value(py, stream, STREAM)
    }
}
