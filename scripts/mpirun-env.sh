# Sourced by the scripts: lets Open MPI run as root and oversubscribe small machines.
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
fi
export OMPI_MCA_rmaps_base_oversubscribe=${OMPI_MCA_rmaps_base_oversubscribe:-1}
# Idle ranks yield their core instead of busy-polling it.
export OMPI_MCA_mpi_yield_when_idle=${OMPI_MCA_mpi_yield_when_idle:-1}
MPIRUN=${MPIRUN:-mpirun}
if [ "${H5STITCH_MPI:-openmpi}" = mpich ]; then MPIRUN=${MPIRUN_MPICH:-mpirun.mpich}; fi
