/* core.h — everything the core offers the rest of the library: utilities, window geometry, the
 * graph with its op and backend tables. Not part of the public API. */
#ifndef FOVEA_CORE_H
#define FOVEA_CORE_H

#include "core/geometry.h"
#include "core/graph.h"
#include "core/util.h"

#endif
