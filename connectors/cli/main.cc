// The `homeward` executable: everything is in run_cli (cli.h), the process edge.
#include <iostream>

#include "connectors/cli/cli.h"

int main(int argc, char** argv) {
  return homeward::connectors::run_cli(argc, argv, std::cout, std::cerr);
}
