#include "common/request_text.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace shadowplane {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

absl::Status Refuse(const std::string& path) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, " contains a NUL character, which cannot be stored"));
}

absl::Status Check(const Message& message, const std::string& prefix);

// A map entry is named by its key (when the key is printable text) rather than its position.
std::string EntryPath(const std::string& field_path, const Message& entry, int index) {
  const FieldDescriptor* key = entry.GetDescriptor()->map_key();
  if (key->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
    const std::string k = entry.GetReflection()->GetString(entry, key);
    if (!ContainsNul(k) && k.size() <= 64) return absl::StrCat(field_path, "[", k, "]");
  }
  return absl::StrCat(field_path, "[", index, "]");
}

absl::Status CheckField(const Message& message, const FieldDescriptor* field,
                        const std::string& path) {
  const Reflection* reflection = message.GetReflection();
  const bool is_string = field->cpp_type() == FieldDescriptor::CPPTYPE_STRING &&
                         field->type() == FieldDescriptor::TYPE_STRING;  // bytes may hold NUL
  const bool is_message = field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
  if (!is_string && !is_message) return absl::OkStatus();
  if (!field->is_repeated()) {
    if (is_string) {
      return ContainsNul(reflection->GetString(message, field)) ? Refuse(path) : absl::OkStatus();
    }
    return Check(reflection->GetMessage(message, field), absl::StrCat(path, "."));
  }
  const int n = reflection->FieldSize(message, field);
  for (int i = 0; i < n; ++i) {
    if (is_string) {
      if (ContainsNul(reflection->GetRepeatedString(message, field, i))) {
        return Refuse(absl::StrCat(path, "[", i, "]"));
      }
      continue;
    }
    const Message& element = reflection->GetRepeatedMessage(message, field, i);
    if (field->is_map()) {
      // Keys and values are the entry's fields 1 and 2; name both by the entry.
      const std::string entry = EntryPath(path, element, i);
      const FieldDescriptor* key = element.GetDescriptor()->map_key();
      if (key->type() == FieldDescriptor::TYPE_STRING &&
          ContainsNul(element.GetReflection()->GetString(element, key))) {
        return Refuse(absl::StrCat(path, "[", i, "] (key)"));
      }
      const FieldDescriptor* value = element.GetDescriptor()->map_value();
      if (absl::Status s = CheckField(element, value, entry); !s.ok()) return s;
      continue;
    }
    if (absl::Status s = Check(element, absl::StrCat(path, "[", i, "].")); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Check(const Message& message, const std::string& prefix) {
  std::vector<const FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);  // only those set: cheap on small requests
  for (const FieldDescriptor* field : fields) {
    if (absl::Status s = CheckField(message, field, absl::StrCat(prefix, field->name())); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckRequestText(const Message& request) { return Check(request, ""); }

}  // namespace shadowplane
