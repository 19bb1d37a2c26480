/*
  The 2-D toy datasets of `sgm data` (doc/data.md).  The definitions are those of FFJORD's toy data
  (Grathwohl et al. 2019, lib/toy_data.py, taken over by the score-SDE-era toy code), written as
  i.i.d. draws: where FFJORD takes equal class counts or sklearn's evenly spaced angles
  (make_moons, make_circles), a point here draws its class and angle uniformly.  One change: the
  8 Gaussians are not divided by 1.414, so that they are exactly the mixture of input/gmm8.h5 whose
  score sgm knows in closed form (-score_type gmm).  z, z0, z1 are standard normals, u uniform on (0,1).

    swissroll     t = 3 pi/2 (1 + 2u),  x = (t cos t + 1.0 z0, t sin t + 1.0 z1) / 5
                  (sklearn make_swiss_roll(noise=1.0), coordinates x and z, divided by 5)
    moons         c in {0,1} uniform, theta = pi u;  p = (cos theta, sin theta) for c = 0,
                  (1 - cos theta, 1/2 - sin theta) for c = 1;  x = 2 (p + 0.1 z) + (-1, -0.2)
    checkerboard  x1 = 4 u0 - 2, column j = floor(x1) + 2, row pick b in {0,1} uniform,
                  x2 = u1 - 2 b + (j mod 2);  x = 2 (x1, x2);  label = 2 j + 1 - b (8 squares)
    8gaussians    k in {0..7} uniform, x = 4 (cos 2 pi k/8, sin 2 pi k/8) + 0.5 z   (input/gmm8.h5)
    pinwheel      k in {0..4} uniform, f = (1 + 0.3 z0, 0.1 z1), a = 2 pi k/5 + 0.25 exp(f0),
                  x = 2 (f0 cos a + f1 sin a, -f0 sin a + f1 cos a)
    circles       c in {0,1} uniform (0 outer, radius 1; 1 inner, radius 0.5), theta = 2 pi u,
                  x = 3 (r cos theta + 0.08 z0, r sin theta + 0.08 z1)

  Random numbers: point i uses the counter-based Philox-4x32-10 of src/sys/philox.c with the seed as
  key, stream TOY_STREAM (apart from the sampler's streams).  Its normals are
  SgmRandomNormalSample(seed, TOY_STREAM, step 0, i); its uniforms come from counters
  (j, 1, i, i >> 32 ^ TOY_STREAM << 24), j = 0, 1 (ToyUniforms): step 1 is never used by the normals,
  so the two never share a counter.  Nothing depends on the rank that computes the point.
*/
#include <sgmdata.h>
#include <sgmio.h>

#define TOY_STREAM ((SgmStream)8)

/* parameters: the attributes of the output (param_NAME) and the constants of the formulas above */
#define SWISS_TMIN  (1.5 * PETSC_PI)
#define SWISS_TMAX  (4.5 * PETSC_PI)
#define SWISS_NOISE 1.0
#define SWISS_SCALE 0.2
#define MOONS_NOISE 0.1
#define MOONS_SCALE 2.0
#define MOONS_SHIFT_X (-1.0)
#define MOONS_SHIFT_Y (-0.2)
#define CHECK_SCALE 2.0
#define GAUSS_RADIUS 4.0
#define GAUSS_STD    0.5
#define PIN_ARMS     5
#define PIN_RADIAL   0.3
#define PIN_TANGENT  0.1
#define PIN_RATE     0.25
#define PIN_SCALE    2.0
#define CIRC_FACTOR  0.5
#define CIRC_NOISE   0.08
#define CIRC_SCALE   3.0

/* u[0..k) uniform on the open interval (0,1), k <= 4: the top 53 of 64 Philox bits m give
   (m + 1/2) 2^-53, exact in double and never 0 or 1. */
static void ToyUniforms(uint64_t seed, PetscInt i, int k, double u[])
{
  const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
  const uint64_t idx    = (uint64_t)i;

  for (int j = 0; 2 * j < k; j++) {
    const uint32_t ctr[4] = {(uint32_t)j, 1u, (uint32_t)idx, (uint32_t)(idx >> 32) ^ ((uint32_t)TOY_STREAM << 24)};
    uint32_t       r[4];
    SgmPhilox4x32(ctr, key, r);
    for (int h = 0; h < 2 && 2 * j + h < k; h++) {
      const uint64_t m = ((((uint64_t)r[2 * h] << 32) | r[2 * h + 1]) >> 11);
      u[2 * j + h]     = ((double)m + 0.5) * 0x1p-53;
    }
  }
}

/* a class in {0..n-1} from a uniform on (0,1) */
static PetscInt ToyClass(double u, PetscInt n)
{
  PetscInt k = (PetscInt)(u * (double)n);
  return k < n ? k : n - 1;
}

static void SwissRoll(uint64_t seed, PetscInt i, double x[2], PetscInt64 *label)
{
  double u, z[2], t;

  ToyUniforms(seed, i, 1, &u);
  SgmRandomNormalSample(seed, TOY_STREAM, 0, i, 2, z);
  t    = SWISS_TMIN + (SWISS_TMAX - SWISS_TMIN) * u;
  x[0] = SWISS_SCALE * (t * PetscCosReal(t) + SWISS_NOISE * z[0]);
  x[1] = SWISS_SCALE * (t * PetscSinReal(t) + SWISS_NOISE * z[1]);
  *label = 0;
}

static void Moons(uint64_t seed, PetscInt i, double x[2], PetscInt64 *label)
{
  double   u[2], z[2], th, p0, p1;
  PetscInt c;

  ToyUniforms(seed, i, 2, u);
  SgmRandomNormalSample(seed, TOY_STREAM, 0, i, 2, z);
  c  = ToyClass(u[0], 2);
  th = PETSC_PI * u[1];
  p0 = c ? 1.0 - PetscCosReal(th) : PetscCosReal(th);
  p1 = c ? 0.5 - PetscSinReal(th) : PetscSinReal(th);
  x[0]   = MOONS_SCALE * (p0 + MOONS_NOISE * z[0]) + MOONS_SHIFT_X;
  x[1]   = MOONS_SCALE * (p1 + MOONS_NOISE * z[1]) + MOONS_SHIFT_Y;
  *label = c;
}

static void Checkerboard(uint64_t seed, PetscInt i, double x[2], PetscInt64 *label)
{
  double   u[3], x1;
  PetscInt j, b;

  ToyUniforms(seed, i, 3, u);
  x1 = 4.0 * u[0] - 2.0;
  j  = (PetscInt)PetscFloorReal(x1) + 2;
  b  = ToyClass(u[2], 2);
  x[0]   = CHECK_SCALE * x1;
  x[1]   = CHECK_SCALE * (u[1] - 2.0 * (double)b + (double)(j % 2));
  *label = 2 * j + 1 - b;
}

static void EightGaussians(uint64_t seed, PetscInt i, double x[2], PetscInt64 *label)
{
  double   u, z[2], a;
  PetscInt k;

  ToyUniforms(seed, i, 1, &u);
  SgmRandomNormalSample(seed, TOY_STREAM, 0, i, 2, z);
  k      = ToyClass(u, 8);
  a      = 2.0 * PETSC_PI * (double)k / 8.0;
  x[0]   = GAUSS_RADIUS * PetscCosReal(a) + GAUSS_STD * z[0];
  x[1]   = GAUSS_RADIUS * PetscSinReal(a) + GAUSS_STD * z[1];
  *label = k;
}

static void Pinwheel(uint64_t seed, PetscInt i, double x[2], PetscInt64 *label)
{
  double   u, z[2], f0, f1, a;
  PetscInt k;

  ToyUniforms(seed, i, 1, &u);
  SgmRandomNormalSample(seed, TOY_STREAM, 0, i, 2, z);
  k      = ToyClass(u, PIN_ARMS);
  f0     = 1.0 + PIN_RADIAL * z[0];
  f1     = PIN_TANGENT * z[1];
  a      = 2.0 * PETSC_PI * (double)k / PIN_ARMS + PIN_RATE * PetscExpReal(f0);
  x[0]   = PIN_SCALE * (f0 * PetscCosReal(a) + f1 * PetscSinReal(a));
  x[1]   = PIN_SCALE * (-f0 * PetscSinReal(a) + f1 * PetscCosReal(a));
  *label = k;
}

static void Circles(uint64_t seed, PetscInt i, double x[2], PetscInt64 *label)
{
  double   u[2], z[2], th, r;
  PetscInt c;

  ToyUniforms(seed, i, 2, u);
  SgmRandomNormalSample(seed, TOY_STREAM, 0, i, 2, z);
  c      = ToyClass(u[0], 2);
  r      = c ? CIRC_FACTOR : 1.0;
  th     = 2.0 * PETSC_PI * u[1];
  x[0]   = CIRC_SCALE * (r * PetscCosReal(th) + CIRC_NOISE * z[0]);
  x[1]   = CIRC_SCALE * (r * PetscSinReal(th) + CIRC_NOISE * z[1]);
  *label = c;
}

typedef struct {
  const char *name;
  double      value;
} ToyParam;

typedef struct {
  const char *name, *help, *formula;
  PetscInt    nclasses; /* 0: no labels */
  void (*point)(uint64_t, PetscInt, double[2], PetscInt64 *);
  ToyParam params[6];
} ToyDef;

static const ToyDef toys[] = {
  {SGMTOYSWISSROLL, "2-D Swiss roll, t in [3pi/2, 9pi/2], noise 1, scaled by 1/5 (no labels)", "t = 3 pi/2 (1 + 2u), x = scale (t cos t + noise z0, t sin t + noise z1)", 0, SwissRoll,
   {{"t_min", SWISS_TMIN}, {"t_max", SWISS_TMAX}, {"noise", SWISS_NOISE}, {"scale", SWISS_SCALE}}},
  {SGMTOYMOONS, "two interleaved half circles, noise 0.1, x2 then shifted by (-1,-0.2); label = moon", "c ~ U{0,1}, th = pi u, p = (cos th, sin th) if c = 0 else (1 - cos th, 1/2 - sin th), x = scale (p + noise z) + (shift_x, shift_y)", 2, Moons,
   {{"noise", MOONS_NOISE}, {"scale", MOONS_SCALE}, {"shift_x", MOONS_SHIFT_X}, {"shift_y", MOONS_SHIFT_Y}}},
  {SGMTOYCHECKERBOARD, "uniform on the 8 dark squares of a 4x4 board on [-4,4]^2; label = square", "x1 = 4 u0 - 2, j = floor(x1) + 2, b ~ U{0,1}, x2 = u1 - 2 b + (j mod 2), x = scale (x1, x2), label = 2 j + 1 - b", 8, Checkerboard,
   {{"scale", CHECK_SCALE}}},
  {SGMTOY8GAUSSIANS, "8 equal-weight Gaussians of std 0.5 on the circle of radius 4 (input/gmm8.h5); label = component", "k ~ U{0..7}, x = radius (cos 2 pi k/8, sin 2 pi k/8) + std z", 8, EightGaussians,
   {{"radius", GAUSS_RADIUS}, {"std", GAUSS_STD}, {"components", 8}}},
  {SGMTOYPINWHEEL, "5 spiral arms, radial std 0.3, tangential std 0.1, rate 0.25, scaled by 2; label = arm", "k ~ U{0..arms-1}, f = (1 + radial_std z0, tangential_std z1), a = 2 pi k/arms + rate exp(f0), x = scale (f0 cos a + f1 sin a, -f0 sin a + f1 cos a)", PIN_ARMS, Pinwheel,
   {{"arms", PIN_ARMS}, {"radial_std", PIN_RADIAL}, {"tangential_std", PIN_TANGENT}, {"rate", PIN_RATE}, {"scale", PIN_SCALE}}},
  {SGMTOYCIRCLES, "two concentric circles of radii 3 and 1.5, noise 0.24; label = circle (0 outer)", "c ~ U{0,1}, r = 1 if c = 0 else factor, th = 2 pi u, x = scale (r cos th + noise z0, r sin th + noise z1)", 2, Circles,
   {{"factor", CIRC_FACTOR}, {"noise", CIRC_NOISE}, {"scale", CIRC_SCALE}}},
};
#define NTOYS ((PetscInt)(sizeof(toys) / sizeof(toys[0])))

static const char *const toynames[] = {SGMTOYSWISSROLL, SGMTOYMOONS, SGMTOYCHECKERBOARD, SGMTOY8GAUSSIANS, SGMTOYPINWHEEL, SGMTOYCIRCLES};

static PetscErrorCode ToyFind(MPI_Comm comm, SgmToyType type, const ToyDef **def)
{
  PetscFunctionBegin;
  for (PetscInt k = 0; k < NTOYS; k++) {
    PetscBool match;
    PetscCall(PetscStrcmp(type, toys[k].name, &match));
    if (match) {
      *def = &toys[k];
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  SETERRQ(comm, PETSC_ERR_USER_INPUT, "Unknown dataset '%s' (-dataset): the datasets are swissroll, moons, checkerboard, 8gaussians, pinwheel and circles", type ? type : "");
}

PetscErrorCode SgmToyGetNames(PetscInt *n, const char *const **names)
{
  PetscFunctionBegin;
  *n     = NTOYS;
  *names = toynames;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmToyGetInfo(MPI_Comm comm, SgmToyType type, const char **help, const char **formula, PetscInt *nclasses)
{
  const ToyDef *def;

  PetscFunctionBegin;
  PetscCall(ToyFind(comm, type, &def));
  if (help) *help = def->help;
  if (formula) *formula = def->formula;
  if (nclasses) *nclasses = def->nclasses;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmToySampleBatch(MPI_Comm comm, SgmToyType type, uint64_t seed, const SgmBatch *b, PetscScalar x[], PetscInt64 labels[])
{
  const ToyDef *def;

  PetscFunctionBegin;
  PetscCall(ToyFind(comm, type, &def));
  PetscCheck(b->d == 2, comm, PETSC_ERR_ARG_SIZ, "The toy datasets are 2-D but the batch has dimension %" PetscInt_FMT, b->d);
  PetscCall(PetscLogEventBegin(SGM_Noise, 0, 0, 0, 0));
  for (PetscInt i = 0; i < b->n; i++) {
    double     p[2];
    PetscInt64 c;
    def->point(seed, b->rstart + i, p, &c);
    x[2 * i]     = p[0];
    x[2 * i + 1] = p[1];
    if (labels) labels[i] = c;
  }
  PetscCall(PetscLogEventEnd(SGM_Noise, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode SgmToyWriteAttributes(MPI_Comm comm, SgmToyType type, hid_t obj)
{
  const ToyDef *def;
  char          key[64];

  PetscFunctionBegin;
  PetscCall(ToyFind(comm, type, &def));
  PetscCall(SgmH5AttrString(obj, "dataset", def->name));
  PetscCall(SgmH5AttrString(obj, "description", def->help));
  PetscCall(SgmH5AttrString(obj, "definition", def->formula));
  PetscCall(SgmH5AttrString(obj, "definition_source", "FFJORD toy data (Grathwohl et al. 2019, lib/toy_data.py) as i.i.d. draws; 8gaussians without the 1/1.414 factor (= input/gmm8.h5); see doc/data.md"));
  PetscCall(SgmH5AttrInt(obj, "nclasses", def->nclasses));
  for (int k = 0; k < 6 && def->params[k].name; k++) {
    PetscCall(PetscSNPrintf(key, sizeof(key), "param_%s", def->params[k].name));
    PetscCall(SgmH5AttrReal(obj, key, def->params[k].value));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
