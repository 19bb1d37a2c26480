/* sgm: the command-line program.  `sgm <command> [PETSc-style options]`. */
#include <sgm.h>
#include <sgmio.h>
#include "commands.h"

static const char help[] = "sgm: score-based generative models on MPI, PETSc and parallel HDF5.\n\n"
                           "Usage: mpiexec -n P sgm <command> [options]      (sgm <command> -help lists the options)\n"
                           "Commands:\n"
                           "  sample   draw samples by integrating the reverse SDE or the probability-flow ODE\n"
                           "  nll      negative log-likelihood of data through the probability-flow ODE\n"
                           "  train    train a score network (-net_type mlp, egnn, distance) on an HDF5 dataset; sample from it with -score_type mlp\n"
                           "  train-ae train the GeoLDM equivariant autoencoder of point clouds (stage 1; doc/geometric.md)\n"
                           "  train-field  train a convolutional score network on fields; sample from it with -score_type convnet\n"
                           "  score    evaluate a score model at given points and times\n"
                           "  eval     compare samples with a reference set or density: moments, Frechet, sliced W2, MMD, energy, NLL\n"
                           "  mcmc     Metropolis sampling of the DW4 and LJ13 particle energies (reference data, doc/geometric.md)\n"
                           "  csp      crystals with DiffCSP: sgm csp train / sample / eval (doc/geometric.md)\n"
                           "  data     write a built-in 2-D toy dataset (swissroll, moons, checkerboard, 8gaussians, pinwheel, circles)\n"
                           "  version  print the version, git revision and library versions\n\n"
                           "Objects of `sgm sample` and their types (options of the selected type are listed below):\n"
                           "  -sde_type      vp         variance preserving, beta(t) linear 0.1..20 or the DDPM schedule (-sde_vp_schedule ddpm)\n"
                           "                 subvp      sub-variance preserving (Song et al. 2021, eq. 12)\n"
                           "                 ve         variance exploding, sigma 0.01..50\n"
                           "                 poly2      EDM's polynomial_2 schedule, alpha^2 = (1-2s)(1-t^2)^2 + s, s = 1e-5\n"
                           "  -score_type    gmm        exact score of a diffused Gaussian mixture (-gmm_file)\n"
                           "                 gaussian   exact score of a diffused Gaussian (-gaussian_file or -gaussian_mean/-gaussian_std)\n"
                           "  -sampler_type  em         Euler-Maruyama on the reverse SDE, 1 NFE per step\n"
                           "                 ancestral  DDPM ancestral sampling, variance beta or beta_tilde, 1 NFE per step\n"
                           "                 ode        probability-flow ODE through any PETSc TS (-ts_type ...), adaptive RK45 by default\n\n";

int SgmExitStatus = 0;

typedef struct {
  const char *name;
  PetscErrorCode (*run)(MPI_Comm);
} SgmCommand;

static const SgmCommand commands[] = {
  {"sample",  SgmCommandSample },
  {"nll",     SgmCommandNLL    },
  {"train",   SgmCommandTrain  },
  {"train-field", SgmCommandTrainField},
  {"train-ae", SgmCommandTrainAE},
  {"score",   SgmCommandScore  },
  {"eval",    SgmCommandEval   },
  {"mcmc",    SgmCommandMCMC   },
  {"csp",     SgmCommandCSP    },
  {"data",    SgmCommandData   },
  {"version", SgmCommandVersion},
};

static PetscErrorCode SgmMain(const char *cmd)
{
  PetscBool help;

  PetscFunctionBegin;
  PetscCall(SgmPushErrorHandler());
  PetscCall(SgmInitializePackage());
  PetscCall(SgmSignalsInstall()); /* SIGTERM/SIGUSR1 from here on: a clean stop, never a kill */
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  if (!cmd) {
    PetscCheck(help, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT, "No command given: use `sgm sample [options]` (or `sgm -help`)");
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
    PetscBool match;
    PetscCall(PetscStrcmp(cmd, commands[i].name, &match));
    if (match) {
      PetscCall(commands[i].run(PETSC_COMM_WORLD));
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT, "Unknown command '%s': the commands are sample, nll, train, train-ae, train-field, score, eval, mcmc, csp, data and version", cmd);
}

/* Errors inside PetscInitialize() come from the options: an -options_file that cannot be read (on
   the command line or nested in a deck), a malformed options file.  They are input errors too: one
   line, once, from rank 0. */
static PetscErrorCode InitErrorHandler(MPI_Comm comm, int line, const char *fun, const char *file, PetscErrorCode n, PetscErrorType p, const char *mess, void *ctx)
{
  static const char nofile[] = "Unable to open options file ";
  int               init = 0, rank = 0;

  if (p != PETSC_ERROR_INITIAL || !mess) return n;
  (void)MPI_Initialized(&init);
  if (init) (void)MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank) return n;
  if (!strncmp(mess, nofile, sizeof(nofile) - 1)) (void)fprintf(stderr, "sgm: error: cannot read the options file '%s' (-options_file): it does not exist or is not readable\n", mess + sizeof(nofile) - 1);
  else (void)fprintf(stderr, "sgm: error: %s\n", mess);
  (void)fflush(stderr);
  return n;
}

int main(int argc, char **argv)
{
  PetscErrorCode ierr;
  const char    *cmd = NULL;

  /* the command is the first argument that is not an option; PETSc sees the rest */
  if (argc > 1 && argv[1][0] != '-') {
    cmd = argv[1];
    for (int i = 1; i < argc - 1; i++) argv[i] = argv[i + 1];
    argc--;
  }
  ierr = PetscPushErrorHandler(InitErrorHandler, NULL);
  if (ierr) return 1;
  ierr = PetscInitialize(&argc, &argv, NULL, help);
  if (ierr) { /* PETSc reads options files on rank 0 alone: the other ranks wait for it in MPI_Bcast */
    int init = 0, fin = 0, size = 1;
    (void)MPI_Initialized(&init);
    (void)MPI_Finalized(&fin);
    if (init && !fin) {
      (void)MPI_Comm_size(MPI_COMM_WORLD, &size);
      if (size > 1) (void)MPI_Abort(MPI_COMM_WORLD, 1);
      (void)MPI_Finalize();
    }
    return 1;
  }
  ierr = SgmMain(cmd);
  if (ierr) {
    (void)SgmOutputDiscardAll();
    if (SgmIsUserError(ierr)) { /* input errors are detected on every rank alike: finish cleanly */
      (void)PetscFinalize();
      return 1;
    }
    PETSCABORT(PETSC_COMM_WORLD, ierr);
  }
  ierr = PetscPopErrorHandler(); /* SgmMain's (InitErrorHandler stays: allocated before PETSc's malloc) */
  if (!ierr) ierr = PetscFinalize();
  return ierr ? 1 : SgmExitStatus;
}
