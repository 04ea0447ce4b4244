// The control plane's flags: one line per setting in server_flags.cc binds a flag to its field of
// ServerOptions (server/server_options.h), whose initialiser is the flag's default. Flags are
// read after PrepareProcess (server/process_startup.h) has applied the file, the environment and
// the command line.
#ifndef SHADOWPLANE_SERVER_SERVER_FLAGS_H_
#define SHADOWPLANE_SERVER_SERVER_FLAGS_H_

#include "server/server_options.h"

namespace shadowplane::server {

// Every setting from its flag. Not validated: see ServerOptions::Validate.
ServerOptions ServerOptionsFromFlags();

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_SERVER_FLAGS_H_
