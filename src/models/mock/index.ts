export {
  createMockBackend,
  type MockAnswer,
  type MockBackend,
  type MockBackendOptions,
  type MockCall,
  type MockRequest,
  type MockRespond,
} from './mock-backend.js';
