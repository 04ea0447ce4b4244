// A gRPC server reflection client (grpc.reflection.v1alpha, what grpcurl speaks), run by the e2e
// tests as a process of its own: code generated from reflection.proto cannot live in a process
// that also links grpc++_reflection.
//
//   reflection_probe HOST:PORT list              one service name per line
//   reflection_probe HOST:PORT describe SYMBOL   "file NAME" and "method SERVICE.METHOD" lines
// Exit 0 on success; 1 with the error on stderr otherwise.

#include <google/protobuf/descriptor.pb.h>
#include <grpcpp/grpcpp.h>

#include <iostream>
#include <string>

#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

using grpc::reflection::v1alpha::ServerReflection;
using grpc::reflection::v1alpha::ServerReflectionRequest;
using grpc::reflection::v1alpha::ServerReflectionResponse;

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: reflection_probe HOST:PORT list | describe SYMBOL\n";
    return 2;
  }
  auto channel = grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials());
  auto stub = ServerReflection::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = stub->ServerReflectionInfo(&context);

  ServerReflectionRequest request;
  const std::string command = argv[2];
  if (command == "list") {
    request.set_list_services("*");
  } else if (command == "describe" && argc == 4) {
    request.set_file_containing_symbol(argv[3]);
  } else {
    std::cerr << "unknown command\n";
    return 2;
  }
  ServerReflectionResponse response;
  if (!stream->Write(request) || !stream->Read(&response)) {
    std::cerr << "reflection call failed: " << stream->Finish().error_message() << "\n";
    return 1;
  }
  stream->WritesDone();
  if (response.has_error_response()) {
    std::cerr << "error " << response.error_response().error_code() << ": "
              << response.error_response().error_message() << "\n";
    return 1;
  }
  if (command == "list") {
    for (const auto& service : response.list_services_response().service()) {
      std::cout << service.name() << "\n";
    }
  } else {
    for (const std::string& bytes : response.file_descriptor_response().file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto file;
      if (!file.ParseFromString(bytes)) {
        std::cerr << "unparsable file descriptor\n";
        return 1;
      }
      std::cout << "file " << file.name() << "\n";
      for (const auto& service : file.service()) {
        for (const auto& method : service.method()) {
          std::cout << "method " << file.package() << "." << service.name() << "." << method.name()
                    << "\n";
        }
      }
    }
  }
  stream->Finish();
  return 0;
}
