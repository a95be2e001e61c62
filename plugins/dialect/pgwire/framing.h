// Finds and classifies PostgreSQL v3 messages after the startup phase. Stateless: bytes in, a
// verdict out, so it can run over borrowed read buffers without copying them.
#pragma once

#include <lms/plugin.h>

#include <cstddef>
#include <cstdint>

namespace lms::pgwire {

// Fills `out` for the message at the start of data[0, len). See lms_dialect_functions::frame.
void frame_message(lms_direction direction, const uint8_t* data, size_t len, lms_frame* out);

}  // namespace lms::pgwire
