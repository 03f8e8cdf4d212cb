// Experiences as other domains use them: the catalogue, its rebuild on every analysis, and reads.
export {
  customerExperiences,
  experienceCounts,
  incidentKinds,
  refreshExperiences,
} from './experience.repository.ts';
export {
  experienceCatalogue,
  experienceCountSchema,
  experienceKindSchema,
  experienceSchema,
  kindWords,
  valences,
  type Experience,
  type ExperienceCount,
  type ExperienceKind,
  type Valence,
} from './experience.ts';
