// Builds against kata::mpi alone (tests/consumer/mpi/CMakeLists.txt): <mpi.h> is found and MPI's
// library is linked through the imported target. Runs without mpirun and without initialising MPI
// (MPI_Initialized may be called at any time), so the check needs no process manager.
#include <kata/train/mpi_communicator.hpp>

#include <cstdio>
#include <type_traits>

static_assert(
    std::is_base_of_v<kata::train::Communicator, kata::train::MultiProcessDataParallelCommunicator>);

int main() {
    int initialised = 1;
    if (MPI_Initialized(&initialised) != MPI_SUCCESS || initialised) return 1;
    kata::train::MultiProcessDataParallelCommunicator comm;  // not initialised: no MPI call
    std::printf("kata::mpi consumer: %s, MPI %d.%d\n", comm.name(), MPI_VERSION, MPI_SUBVERSION);
    return 0;
}
