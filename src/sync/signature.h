// librsync signatures: choosing their parameters, computing one from a file or a stream, and
// loading a received one for delta generation.
#ifndef SHADOWPLANE_SYNC_SIGNATURE_H_
#define SHADOWPLANE_SYNC_SIGNATURE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "sync/rsync_job.h"

namespace shadowplane::sync {

struct SignatureParams {
  size_t block_len = 0;
  size_t strong_len = 0;
};

// The block length and strong-sum length for a basis of `size` bytes. See the .cc for the rule.
SignatureParams ChooseSignatureParams(int64_t size);

// Streams the signature of `data` (fed in pieces) into a string. Used to compute a basis
// signature and, on the target, to sign a file while it is being rebuilt so that the next round
// finds its signature cached.
class SignatureBuilder {
 public:
  explicit SignatureBuilder(int64_t size);
  absl::Status Update(const char* data, size_t size);
  // The signature; call once, after the last Update.
  absl::StatusOr<std::string> Finish();

 private:
  RsJob job_;
  std::string signature_;
};

// The signature of the open file `fd` (`size` bytes), read with large buffers.
absl::StatusOr<std::string> SignFile(int fd, int64_t size);

// A signature received in pieces and indexed for delta generation.
class LoadedSignature {
 public:
  LoadedSignature();
  absl::Status Update(const std::string& chunk);
  // After the last chunk: DATA_LOSS when it is truncated or corrupt.
  absl::Status Finish();
  rs_signature_t* get() const { return signature_.get(); }

 private:
  // Declared in this order so that the job (which points at the signature) goes first.
  rs_signature_t* raw_ = nullptr;
  RsSignaturePtr signature_;
  RsJob job_;
};

}  // namespace shadowplane::sync

#endif  // SHADOWPLANE_SYNC_SIGNATURE_H_
