// A migration's progress in one line, as `migrations list` and `top` print it.
#ifndef SHADOWPLANE_CLI_MIGRATION_TEXT_H_
#define SHADOWPLANE_CLI_MIGRATION_TEXT_H_

#include <cstdint>
#include <string>

#include "shadowplane/v1/migrations.pb.h"

namespace shadowplane::cli {

// "1.5 MiB".
std::string MibText(int64_t bytes);

// The state and what its step has done so far ("PRECOPY  pre-copy round 2, 1.5 MiB left").
std::string MigrationProgressLine(const shadowplane::v1::Migration& m);

}  // namespace shadowplane::cli

#endif  // SHADOWPLANE_CLI_MIGRATION_TEXT_H_
