// Fuzzes the CSV readers: a demand series (forecast/synthetic_trace.h, what `shadowctl loadgen`
// and the benchmarks read) and an access log to import (cli/access_csv.h). Input: one selector
// byte, then the file. A bad file is refused with a status naming the line, never a crash.
#include <cstdint>
#include <string>

#include "cli/access_csv.h"
#include "forecast/synthetic_trace.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    shadowplane::fuzz::MemoryFile file(text);
    (void)shadowplane::forecast::ReadDemandCsv(file.path());
  } else {
    (void)shadowplane::cli::ParseAccessCsv(text);
  }
  return 0;
}
