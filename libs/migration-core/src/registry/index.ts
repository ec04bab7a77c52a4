export { EntityRepositoryRegistry, type EntityRegistration } from './entity-repository.registry';
