#include "CRivetHost.h"
